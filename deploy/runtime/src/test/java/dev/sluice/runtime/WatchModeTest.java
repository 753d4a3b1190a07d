package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.tokenizer.Tokenizers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unbounded mode: the job watches a directory, a Parquet shard dropped in later is read too, and the Sluice
 * metrics are served by the Flink REST API behind the Web UI.
 */
class WatchModeTest {

    @TempDir
    Path dir;

    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void newShardsAreReadAsTheyAppearAndMetricsShowInTheWebUi() throws Exception {
        Files.copy(Path.of("../../data/corpus/sotu-00000.jsonl.gz"), dir.resolve("a-00000.jsonl.gz"));
        PipelineConfig config = YamlConfig.parse("""
                data: {dataset: watch, tokenizer: gpt2, seq_len: 64}
                batch_sequences: 8
                val_fraction: 0
                shuffle_buffer: 4
                parallelism: 1
                watch_interval_ms: 300
                checkpoint_interval_ms: 300
                sources: [{name: docs, paths: ["%s"]}]
                """.formatted(dir), PipelineConfig.class);
        BatchMeta meta = BatchMeta.of(Tokenizers.load("gpt2"), 64);
        try (Infrastructure infra = Infrastructure.builder().slots(6).start()) {
            var run = PipelineRunner.of(new TokenizeJob(config), infra).start();
            try {
                long t0 = System.nanoTime();
                Set<Long> first = waitForSeqIds(infra, config, meta, ids -> ids.size() > 100);
                assertTrue(first.stream().allMatch(id -> (id >>> 32) == 0), "the listed shard has ordinal 0");

                Files.copy(Path.of("../../connectors/flink/src/test/resources/parquet/fineweb-snappy.parquet"),
                        dir.resolve("b-00000.parquet"));
                // the next ordinal after the one split planned at submission
                Set<Long> later = waitForSeqIds(infra, config, meta, ids -> ids.stream().anyMatch(id -> (id >>> 32) == 1));
                assertTrue(later.containsAll(first));
                System.err.printf("first shard in %.1f s, then the new shard; %d seq_ids%n", (System.nanoTime() - t0) / 1e9,
                        later.size());

                // tokenize runs chained to the corpus reader, so its metrics are on the source's vertex
                String job = run.client().getJobID().toString();
                JsonNode documents = sluiceMetric(infra.webUrl(), job, "Source: corpus", "sluice.documents");
                assertTrue(documents.asDouble() > 233, "documents metric from the REST API: " + documents);

                // a shard still being copied (10 writes, 100 ms apart, across several 300 ms listings) is taken
                // only once complete: every document arrives and none is cut
                StringBuilder lines = new StringBuilder();
                for (int i = 0; i < 40; i++) {
                    lines.append("{\"text\": \"slowly copied document ").append(i).append(' ')
                            .append("word ".repeat(30)).append("\"}\n");
                }
                byte[] bytes = lines.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                double rejected = sluiceMetric(infra.webUrl(), job, "Source: corpus", "sluice.rejectedRecords")
                        .asDouble(); // the Parquet shard's null texts
                Path slow = dir.resolve("c-00000.jsonl");
                try (var out = Files.newOutputStream(slow)) {
                    for (int part = 0; part < 10; part++) {
                        out.write(bytes, part * bytes.length / 10, (part + 1) * bytes.length / 10 - part * bytes.length / 10);
                        out.flush();
                        Thread.sleep(100);
                    }
                }
                double expected = documents.asDouble() + 40;
                long deadline = System.currentTimeMillis() + 60_000;
                while (sluiceMetric(infra.webUrl(), job, "Source: corpus", "sluice.documents").asDouble() < expected
                        && System.currentTimeMillis() < deadline) {
                    Thread.sleep(300);
                }
                assertEquals(expected, sluiceMetric(infra.webUrl(), job, "Source: corpus", "sluice.documents")
                        .asDouble(), "every document of the slowly copied shard");
                assertEquals(rejected, sluiceMetric(infra.webUrl(), job, "Source: corpus", "sluice.rejectedRecords")
                        .asDouble(), "no line cut by reading the shard mid-copy");

                // hundreds of shards at once: each read once, each with its own ordinal (seq_ids never repeat)
                for (int i = 0; i < 300; i++) {
                    Files.writeString(dir.resolve("many-" + i + ".jsonl"), "{\"text\": \"many shards " + i + " "
                            + "word ".repeat(70) + "\"}\n{\"text\": \"and its second document\"}\n");
                }
                double expectedMany = expected + 600;
                while (sluiceMetric(infra.webUrl(), job, "Source: corpus", "sluice.documents").asDouble() < expectedMany
                        && System.currentTimeMillis() < deadline + 60_000) {
                    Thread.sleep(300);
                }
                assertEquals(expectedMany, sluiceMetric(infra.webUrl(), job, "Source: corpus", "sluice.documents")
                        .asDouble(), "every document of 300 new shards, once");
                // one window per new shard; up to 12 wait in the shuffle buffer and the open batch (unbounded runs
                // never flush)
                Set<Long> all = waitForSeqIds(infra, config, meta, ids -> ids.stream().map(id -> id >>> 32)
                        .distinct().count() >= 3 + 300 - 12);
                assertTrue(all.stream().mapToLong(id -> id >>> 32).max().orElseThrow() <= 302,
                        "ordinals counted up from the planned ones, not hashed");
                for (String m : List.of("tokensPerSecond", "documentsPerSecond", "bytesPerToken", "rejectedRecords",
                        "invalidUtf8Records")) {
                    assertTrue(metricIds(infra.webUrl(), run.client().getJobID().toString(), "Source: corpus").stream()
                            .anyMatch(id -> id.endsWith(".sluice." + m)), m + " is published");
                }
                assertTrue(metricIds(infra.webUrl(), run.client().getJobID().toString(), "pack").stream()
                        .anyMatch(id -> id.endsWith(".sluice.droppedTokens")), "droppedTokens is published");
                JsonNode batches = sluiceMetric(infra.webUrl(), run.client().getJobID().toString(),
                        "sample + shuffle + batch → " + config.data().topic("train"),
                        "sluice.batchesOut");
                assertTrue(batches.asDouble() > 0, "batchesOut: " + batches);
            } finally {
                run.client().cancel().get();
            }
        }
    }

    static Set<Long> waitForSeqIds(Infrastructure infra, PipelineConfig config, BatchMeta meta,
                                   Predicate<Set<Long>> done) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 90_000;
        while (true) {
            Set<Long> ids = new HashSet<>();
            for (List<TokenBatch> batches : Topics.read(infra.bootstrapServers(), config.data().topic("train"), meta).values()) {
                for (TokenBatch b : batches) {
                    for (long id : b.seqIds()) {
                        assertTrue(ids.add(id), "seq_id " + id + " twice");
                    }
                }
            }
            if (done.test(ids)) {
                return ids;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out; seq_ids so far: " + ids.size());
            }
            Thread.sleep(300);
        }
    }

    /** Sums a Sluice metric over the subtasks of the vertex whose name starts with {@code vertexPrefix}, via REST. */
    static JsonNode sluiceMetric(String webUrl, String jobId, String vertexPrefix, String metric) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        JsonNode job = get(http, webUrl + "/jobs/" + jobId);
        String vertex = null;
        for (JsonNode v : job.get("vertices")) {
            if (v.get("name").asText().startsWith(vertexPrefix)) {
                vertex = v.get("id").asText();
            }
        }
        assertTrue(vertex != null, "no vertex named " + vertexPrefix + "… in " + job.get("vertices"));
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            JsonNode list = get(http, webUrl + "/jobs/" + jobId + "/vertices/" + vertex + "/metrics");
            StringBuilder ids = new StringBuilder();
            for (JsonNode m : list) {
                String id = m.get("id").asText();
                if (id.endsWith("." + metric)) {
                    ids.append(ids.length() == 0 ? "" : ",").append(id);
                }
            }
            if (ids.length() > 0) {
                JsonNode values = get(http, webUrl + "/jobs/" + jobId + "/vertices/" + vertex + "/metrics?get="
                        + java.net.URLEncoder.encode(ids.toString(), java.nio.charset.StandardCharsets.UTF_8));
                double sum = 0;
                for (JsonNode v : values) {
                    sum += v.get("value").asDouble();
                }
                if (sum > 0 || System.currentTimeMillis() > deadline) {
                    return JSON.getNodeFactory().numberNode(sum);
                }
            } else if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(metric + " not among " + list);
            }
            Thread.sleep(500);
        }
    }

    static List<String> metricIds(String webUrl, String jobId, String vertexPrefix) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        List<String> ids = new java.util.ArrayList<>();
        for (JsonNode v : get(http, webUrl + "/jobs/" + jobId).get("vertices")) {
            if (v.get("name").asText().startsWith(vertexPrefix)) {
                get(http, webUrl + "/jobs/" + jobId + "/vertices/" + v.get("id").asText() + "/metrics")
                        .forEach(m -> ids.add(m.get("id").asText()));
            }
        }
        return ids;
    }

    static JsonNode get(HttpClient http, String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return JSON.readTree(r.body());
    }
}
