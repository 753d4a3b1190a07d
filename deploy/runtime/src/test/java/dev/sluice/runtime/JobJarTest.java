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
import dev.sluice.runtime.cluster.LocalCluster;
import dev.sluice.runtime.embedded.EmbeddedKafka;
import dev.sluice.tokenizer.Tokenizers;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.Micro;
import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.job.Results;
import dev.sluice.trainer.job.TrainJobConfig;
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
 * (deploy/flink-dist), writing to a real broker. Its batches, and with DJL in the cluster's lib/ its TrainJob's losses,
 * must equal those of the same config run in-process.
 */
@Timeout(600)
class JobJarTest {

    static final Path JOB_JAR = Path.of("../jobs/target/sluice-job.jar");
    static final Path FLINK_LIB = Path.of("../flink-dist/target/lib");
    static final Path DJL_LIB = Path.of("../jobs/target/djl-lib");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static int basePort;
    static LocalCluster flink;
    static String jarId;

    @BeforeAll
    static void start() throws Exception {
        assertTrue(Files.isRegularFile(JOB_JAR), "build the job jar first (mvn package): " + JOB_JAR.toAbsolutePath());
        kafka = EmbeddedKafka.start(0);
        // below the ephemeral port range, apart from LocalClusterFaultTest's and other runs on the same machine
        basePort = 20000 + (int) (ProcessHandle.current().pid() % 90) * 100;
        flink = LocalCluster.stockFlink(dir.resolve("flink"), basePort, List.of(FLINK_LIB));
        flink.startFlink(1);
        jarId = upload(flink, JOB_JAR);
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
                data: {dataset: %s, tokenizer: gpt2, seq_len: 128}
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
        String jobId = run(flink, jarId, List.of("tokenize", "--config", config.toString(), "--bootstrap-servers",
                kafka.bootstrapServers()));
        awaitFinished(flink, jobId);

        // The reference: the same config through the runtime's own path (MiniCluster, this JVM's class path).
        PipelineConfig inProcess = YamlConfig.parse(corpus("inprocess"), PipelineConfig.class);
        try (Infrastructure infra = Infrastructure.builder().kafka(kafka.bootstrapServers()).slots(8).start()) {
            PipelineRunner.of(new TokenizeJob(inProcess), infra).start().awaitSummary();
        }
        BatchMeta meta = BatchMeta.of(Tokenizers.load("gpt2"), 128);
        for (String split : List.of("train", "val")) {
            List<TokenBatch> jar = Topics.read(kafka.bootstrapServers(), viaJar.data().topic(split), meta).get(0);
            List<TokenBatch> reference = Topics.read(kafka.bootstrapServers(), inProcess.data().topic(split), meta).get(0);
            assertTrue(rows(reference).size() > (split.equals("train") ? 100 : 2), split + ": too few rows to compare");
            assertEquals(rows(reference), rows(jar), split + ": the jar's batches differ from the in-process job's");
        }
    }

    /** {@code flink run -s}, over REST: stopped with a savepoint, resumed from the jar into the topics it wrote. */
    @Test
    void aTokenizeJobStoppedWithASavepointResumesFromTheJarIntoItsTopics() throws Exception {
        String twelveEpochs = "partitions: 1\nepochs: 12"; // long enough that the stop lands before the end
        Path config = dir.resolve("pipeline-resume.yaml");
        Files.writeString(config, corpus("resume").replace("partitions: 1", twelveEpochs));
        PipelineConfig viaJar = PipelineConfig.load(config);
        List<String> args = List.of("tokenize", "--config", config.toString(), "--bootstrap-servers",
                kafka.bootstrapServers());
        String first = run(flink, jarId, args);
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (JSON.readTree(get(flink, "/jobs/" + first + "/checkpoints")).path("counts").path("completed").asInt() < 1) {
            assertTrue(System.nanoTime() < deadline, "no checkpoint completed");
            Thread.sleep(50);
        }
        var stop = JSON.createObjectNode();
        stop.put("targetDirectory", dir.resolve("savepoints").toUri().toString());
        stop.put("drain", false);
        HttpResponse<String> r = post(flink, "/jobs/" + first + "/stop", JSON.writeValueAsString(stop));
        assertEquals(202, r.statusCode(), r.body());
        String trigger = JSON.readTree(r.body()).get("request-id").asText();
        String savepoint = null;
        while (savepoint == null) {
            JsonNode status = JSON.readTree(get(flink, "/jobs/" + first + "/savepoints/" + trigger));
            if (status.path("status").path("id").asText().equals("COMPLETED")) {
                JsonNode operation = status.path("operation");
                assertTrue(operation.has("location"), "stop with a savepoint failed (did the job end first?): " + status);
                savepoint = operation.get("location").asText();
            }
            assertTrue(System.nanoTime() < deadline, "no savepoint: " + status);
            Thread.sleep(100);
        }
        var resume = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(runBody(args));
        resume.put("savepointPath", savepoint);
        r = post(flink, "/jars/" + jarId + "/run", JSON.writeValueAsString(resume));
        assertEquals(200, r.statusCode(), r.body());
        awaitFinished(flink, JSON.readTree(r.body()).get("jobid").asText());

        PipelineConfig inProcess = YamlConfig.parse(corpus("resume-reference").replace("partitions: 1", twelveEpochs),
                PipelineConfig.class);
        try (Infrastructure infra = Infrastructure.builder().kafka(kafka.bootstrapServers()).slots(8).start()) {
            PipelineRunner.of(new TokenizeJob(inProcess), infra).start().awaitSummary();
        }
        BatchMeta meta = BatchMeta.of(Tokenizers.load("gpt2"), 128);
        for (String split : List.of("train", "val")) {
            assertEquals(Topics.contents(kafka.bootstrapServers(), inProcess.data().topic(split), meta),
                    Topics.contents(kafka.bootstrapServers(), viaJar.data().topic(split), meta),
                    split + ": stopped and resumed from the jar, batch for batch the uninterrupted run's");
        }
    }

    @Test
    void theTrainJobWithoutDjlOnTheClusterFailsAtSubmitSayingWhatToDo() throws Exception {
        HttpResponse<String> r = post(flink, "/jars/" + jarId + "/run", runBody(List.of("train", "--config",
                Path.of("../../configs/speedrun/tiny.yaml").toAbsolutePath().toString(), "--bootstrap-servers",
                kafka.bootstrapServers())));
        assertTrue(r.statusCode() >= 400, r.body());
        assertTrue(r.body().contains("needs DJL and JavaCPP on the Flink cluster's class path"), r.body());
    }

    @Test
    void theTrainJobRunsFromTheJarWhenDjlIsInTheClustersLibWithTheLossesOfTheInProcessJob() throws Exception {
        // The data, and the reference: the micro model trained in-process on it.
        PipelineConfig data = YamlConfig.parse(corpus("micro-data").replace("seq_len: 128", "seq_len: 64"),
                PipelineConfig.class);
        TrainJobConfig reference = new TrainJobConfig(Micro.config().withDataset(data.data().dataset()),
                dir.resolve("in-process").toString(), 1000, true);
        try (Infrastructure infra = Infrastructure.builder().kafka(kafka.bootstrapServers()).slots(8).start()) {
            PipelineRunner.of(new TokenizeJob(data), infra).start().awaitSummary();
            TrainRunner.awaitResults(TrainRunner.start(reference, infra, 0), reference);
        }
        // A second stock cluster, with DJL in its lib/ as the README says.
        LocalCluster withDjl = LocalCluster.stockFlink(dir.resolve("flink-djl"), basePort + 50,
                List.of(FLINK_LIB, DJL_LIB));
        try {
            withDjl.startFlink(1);
            String jar = upload(withDjl, JOB_JAR);
            // twice: the second job gets a new user-code class loader in the same TaskManager, as a restart does,
            // and must find DJL's libtorch and the bridge's JNI library already loaded, not load them again
            for (String run : List.of("via-jar", "via-jar-again")) {
                Path out = dir.resolve(run);
                String jobId = run(withDjl, jar, List.of("train", "--config", Micro.file().toString(), "--dataset",
                        data.data().dataset(), "--bootstrap-servers", kafka.bootstrapServers(), "--out", out.toString(),
                        "--checkpoint-interval-ms", "1000"));
                awaitFinished(withDjl, jobId);
                List<StepMetrics> expected = MetricsLog.read(Path.of(reference.outDir()));
                List<StepMetrics> actual = MetricsLog.read(out);
                assertEquals(12, expected.size());
                assertEquals(expected.size(), actual.size());
                for (int i = 0; i < expected.size(); i++) {
                    assertEquals(expected.get(i).loss(), actual.get(i).loss(), run + ": loss at step " + i);
                    assertEquals(expected.get(i).seqIdHash(), actual.get(i).seqIdHash(), run + ": sequences of step " + i);
                }
                assertEquals(Results.read(Path.of(reference.outDir())).info().evalBpb(),
                        Results.read(out).info().evalBpb());
            }
            long pid = withDjl.process("taskmanager-1").orElseThrow().pid();
            List<String> maps = Files.readAllLines(Path.of("/proc/" + pid + "/maps"));
            for (String library : List.of("libtorch_cpu.so", "libc10.so", "libjnitorch.so")) {
                assertEquals(1, maps.stream().map(l -> l.substring(l.lastIndexOf(' ') + 1))
                        .filter(f -> f.endsWith("/" + library)).distinct().count(), library + " mapped once");
            }
        } finally {
            withDjl.stop();
        }
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

    static String upload(LocalCluster cluster, Path jar) throws Exception {
        String boundary = "sluice" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"sluice-job.jar\""
                + "\r\nContent-Type: application/x-java-archive\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri(cluster, "/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        String path = JSON.readTree(r.body()).get("filename").asText();
        return Path.of(path).getFileName().toString();
    }

    static String run(LocalCluster cluster, String jar, List<String> args) throws Exception {
        HttpResponse<String> r = post(cluster, "/jars/" + jar + "/run", runBody(args));
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("jobid").asText();
    }

    static String runBody(List<String> args) throws Exception {
        var body = JSON.createObjectNode();
        body.put("entryClass", "dev.sluice.jobs.SluiceJob");
        args.forEach(body.putArray("programArgsList")::add);
        return JSON.writeValueAsString(body);
    }

    static void awaitFinished(LocalCluster cluster, String jobId) throws Exception {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode job = JSON.readTree(get(cluster, "/jobs/" + jobId));
            String state = job.path("state").asText();
            if (state.equals("FINISHED")) {
                return;
            }
            if (state.equals("FAILED") || state.equals("CANCELED")) {
                throw new AssertionError("job " + state + ": " + get(cluster, "/jobs/" + jobId + "/exceptions"));
            }
            Thread.sleep(500);
        }
        throw new AssertionError("job not finished in 300 s: " + get(cluster, "/jobs/" + jobId));
    }

    static HttpResponse<String> post(LocalCluster cluster, String path, String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri(cluster, path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String get(LocalCluster cluster, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri(cluster, path)).GET().build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    static URI uri(LocalCluster cluster, String path) {
        return URI.create("http://" + cluster.jobManager() + path);
    }
}
