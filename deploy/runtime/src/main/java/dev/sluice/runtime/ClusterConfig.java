package dev.sluice.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** An existing Flink cluster's configuration, as its REST API reports it ({@code GET /jobmanager/config}). */
record ClusterConfig(Map<String, String> values) {

    static ClusterConfig fetch(String webUrl) {
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(webUrl + "/jobmanager/config"))
                    .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("HTTP " + response.statusCode());
            }
            Map<String, String> values = new HashMap<>();
            for (JsonNode entry : new ObjectMapper().readTree(response.body())) {
                values.put(entry.get("key").asText(), entry.get("value").asText());
            }
            return new ClusterConfig(values);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the Flink cluster's configuration at " + webUrl
                    + "/jobmanager/config: " + e, e);
        }
    }

    /** Where the cluster puts checkpoints by default, or null when it sets nowhere. */
    String checkpointDir() {
        String dir = values.get("execution.checkpointing.dir");
        return dir != null ? dir : values.get("state.checkpoints.dir");
    }
}
