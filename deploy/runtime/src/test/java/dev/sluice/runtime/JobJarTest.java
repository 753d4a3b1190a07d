package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.connectors.batch.BatchMeta;
import dev.sluice.connectors.batch.TokenBatch;
import dev.sluice.connectors.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.runtime.cluster.LocalCluster;
import dev.sluice.runtime.embedded.EmbeddedKafka;
import dev.sluice.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job jar as a Flink user submits it: uploaded through the REST API behind the Web UI's "Submit New Job" page
 * ({@code /jars/upload}, {@code /jars/{id}/run}) to a session cluster whose class path holds only Flink's own jars
 * (deploy/flink-dist), writing to a real broker. Its batches must equal those of the same config run in-process.
 */
@Timeout(600)
class JobJarTest {

    static final Path JOB_JAR = Path.of("../jobs/target/sluice-job.jar");
    static final Path FLINK_LIB = Path.of("../flink-dist/target/lib");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static LocalCluster flink;
    static String jarId;

    @BeforeAll
    static void start() throws Exception {
        assertTrue(Files.isRegularFile(JOB_JAR), "build the job jar first (mvn package): " + JOB_JAR.toAbsolutePath());
        kafka = EmbeddedKafka.start(0);
        // below the ephemeral port range, apart from LocalClusterFaultTest's and other runs on the same machine
        flink = LocalCluster.stockFlink(dir.resolve("flink"), 20000 + (int) (ProcessHandle.current().pid() % 90) * 100,
                FLINK_LIB);
        flink.startFlink(1);
        jarId = upload(JOB_JAR);
    }

    @AfterAll
    static void stop() throws Exception {
        if (flink != null) {
            flink.stop();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    static String corpus(String dataset) {
        return """
                dataset: %s
                tokenizer: gpt2
                seq_len: 128
                batch_sequences: 16
                seed: 7
                val_fraction: 0.05
                shuffle_buffer: 64
                partitions: 1
                parallelism: 2
                checkpoint_interval_ms: 500
                sources:
                  - {name: sotu, paths: ["%s"]}
                  - {name: web, paths: ["%s"]}
                """.formatted(dataset, Path.of("../../data/corpus/sotu-00000.jsonl.gz").toAbsolutePath(),
                Path.of("../../data/corpus/web-00000.jsonl.gz").toAbsolutePath());
    }

    @Test
    void theTokenizeJobRunsFromTheUploadedJarAndWritesWhatTheInProcessJobWrites() throws Exception {
        Path config = dir.resolve("pipeline-jar.yaml");
        Files.writeString(config, corpus("jar"));
        PipelineConfig viaJar = PipelineConfig.load(config);
        String jobId = run(List.of("tokenize", "--config", config.toString(), "--bootstrap-servers",
                kafka.bootstrapServers()));
        awaitFinished(jobId);

        // The reference: the same config through the runtime's own path (MiniCluster, this JVM's class path).
        PipelineConfig inProcess = YamlConfig.parse(corpus("inprocess"), PipelineConfig.class);
        try (Infrastructure infra = Infrastructure.start(kafka.bootstrapServers(), Map.of(), null, 0, 8)) {
            PipelineRunner.start(new TokenizeJob(inProcess), infra, false, 0).awaitSummary();
        }
        BatchMeta meta = BatchMeta.of(Tokenizers.load("gpt2"), 128);
        for (String split : List.of("train", "val")) {
            List<TokenBatch> jar = Topics.read(kafka.bootstrapServers(), viaJar.contract().topic(split), meta).get(0);
            List<TokenBatch> reference = Topics.read(kafka.bootstrapServers(), inProcess.contract().topic(split), meta).get(0);
            assertTrue(rows(reference).size() > (split.equals("train") ? 100 : 2), split + ": too few rows to compare");
            assertEquals(rows(reference), rows(jar), split + ": the jar's batches differ from the in-process job's");
        }
    }

    @Test
    void theTrainJobWithoutDjlOnTheClusterFailsAtSubmitSayingWhatToDo() throws Exception {
        HttpResponse<String> r = post("/jars/" + jarId + "/run", runBody(List.of("train", "--config",
                Path.of("../../configs/speedrun/tiny.yaml").toAbsolutePath().toString(), "--bootstrap-servers",
                kafka.bootstrapServers())));
        assertTrue(r.statusCode() >= 400, r.body());
        assertTrue(r.body().contains("needs DJL on the Flink cluster's class path"), r.body());
    }

    /** Every row as "seq_id source tokens…", in topic order. */
    static List<String> rows(List<TokenBatch> batches) {
        List<String> rows = new ArrayList<>();
        for (TokenBatch b : batches) {
            for (int i = 0; i < b.size(); i++) {
                rows.add(b.seqIds()[i] + " " + b.sources()[i] + " " + Arrays.toString(b.row(i)));
            }
        }
        return rows;
    }

    static String upload(Path jar) throws Exception {
        String boundary = "sluice" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"sluice-job.jar\""
                + "\r\nContent-Type: application/x-java-archive\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri("/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        String path = JSON.readTree(r.body()).get("filename").asText();
        return Path.of(path).getFileName().toString();
    }

    static String run(List<String> args) throws Exception {
        HttpResponse<String> r = post("/jars/" + jarId + "/run", runBody(args));
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("jobid").asText();
    }

    static String runBody(List<String> args) throws Exception {
        var body = JSON.createObjectNode();
        body.put("entryClass", "dev.sluice.jobs.SluiceJob");
        args.forEach(body.putArray("programArgsList")::add);
        return JSON.writeValueAsString(body);
    }

    static void awaitFinished(String jobId) throws Exception {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode job = JSON.readTree(get("/jobs/" + jobId));
            String state = job.path("state").asText();
            if (state.equals("FINISHED")) {
                return;
            }
            if (state.equals("FAILED") || state.equals("CANCELED")) {
                throw new AssertionError("job " + state + ": " + get("/jobs/" + jobId + "/exceptions"));
            }
            Thread.sleep(500);
        }
        throw new AssertionError("job not finished in 300 s: " + get("/jobs/" + jobId));
    }

    static HttpResponse<String> post(String path, String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    static URI uri(String path) {
        return URI.create("http://" + flink.jobManager() + path);
    }
}
