package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.runtime.cluster.LocalCluster;
import dev.sluice.tokenizer.Tokenizers;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.Micro;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.Trainer;
import dev.sluice.trainer.job.Results;
import dev.sluice.trainer.job.TrainJobConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault injection on a real multi-process cluster (Flink JobManager + 2 TaskManagers, 3 Kafka brokers, each its
 * own JVM): kill a TaskManager during the TokenizeJob, a Kafka broker during a run, and the trainer's TaskManager
 * mid-training. Each test says what it injected and what it counted.
 */
@Timeout(600)
class LocalClusterFaultTest {

    @TempDir
    static Path dir;

    static LocalCluster cluster;
    static Infrastructure infra;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        // below the ephemeral port range, and apart from other runs on the same machine
        cluster = new LocalCluster(dir.resolve("cluster"), 10000 + (int) (ProcessHandle.current().pid() % 90) * 100);
        cluster.start();
        // no checkpoint dir given: the jobs get the cluster's own execution.checkpointing.dir, read over REST
        infra = Infrastructure.builder().kafka(cluster.bootstrapServers()).jobManager(cluster.jobManager()).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (infra != null) {
            infra.close();
        }
        if (cluster != null) {
            cluster.stop();
        }
    }

    static PipelineConfig corpus(String dataset, int epochs, int seqLen) {
        return YamlConfig.parse("""
                data: {dataset: %s, tokenizer: gpt2, seq_len: %d}
                batch_sequences: 8
                val_fraction: 0.05
                parallelism: 2
                epochs: %d
                checkpoint_interval_ms: 500
                sources:
                  - {name: sotu, paths: ["%s"]}
                  - {name: kjv, paths: ["%s"]}
                """.formatted(dataset, seqLen, epochs, Path.of("../../data/corpus/sotu-*.jsonl.gz").toAbsolutePath(),
                Path.of("../../data/corpus/kjv-*.jsonl.gz").toAbsolutePath()), PipelineConfig.class);
    }

    static JsonNode rest(String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + cluster.jobManager() + path)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    static void awaitCompletedCheckpoint(JobClient job) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (rest("/jobs/" + job.getJobID() + "/checkpoints").path("counts").path("completed").asInt() < 1) {
            assertTrue(System.currentTimeMillis() < deadline, "no checkpoint completed");
            Thread.sleep(200);
        }
    }

    /** The TaskManager (our process name = its resource id) running the vertex whose name contains {@code part}. */
    static String taskManagerOf(JobClient job, String part) throws Exception {
        for (JsonNode v : rest("/jobs/" + job.getJobID()).get("vertices")) {
            if (v.get("name").asText().contains(part)) {
                JsonNode tms = rest("/jobs/" + job.getJobID() + "/vertices/" + v.get("id").asText() + "/taskmanagers");
                return tms.get("taskmanagers").get(0).get("taskmanager-id").asText();
            }
        }
        throw new AssertionError("no vertex named *" + part + "*");
    }

    @Test
    void killingATaskManagerDuringTheTokenizeJobLosesAndRepeatsNothing() throws Exception {
        PipelineConfig reference = corpus("fault-tm-reference", 3, 128);
        PipelineRunner.of(new TokenizeJob(reference), infra).overwrite(true).restartAttempts(0).start().awaitSummary();
        PipelineConfig c = corpus("fault-tm", 3, 128);
        PipelineRunner.Run run = PipelineRunner.of(new TokenizeJob(c), infra).overwrite(true).restartAttempts(5)
                .start();
        awaitCompletedCheckpoint(run.client());
        String victim = taskManagerOf(run.client(), "tokenize");
        assertTrue(cluster.kill(victim, true));
        System.err.println("injected: SIGKILL of " + victim + " during the TokenizeJob");
        cluster.restart(victim); // the cluster gets its capacity back, as a supervisor would
        ObjectNode summary = run.awaitSummary();
        BatchMeta meta = BatchMeta.of(Tokenizers.load("gpt2"), 128);
        for (String split : List.of("train", "val")) {
            Set<Long> ids = new HashSet<>();
            long rows = 0;
            for (List<TokenBatch> batches : Topics.read(cluster.bootstrapServers(), c.data().topic(split), meta).values()) {
                for (TokenBatch b : batches) {
                    for (long id : b.seqIds()) {
                        assertTrue(ids.add(id), "seq_id " + id + " twice in " + c.data().topic(split));
                        rows++;
                    }
                }
            }
            assertEquals(summary.get("topics").get(c.data().topic(split)).get("sequences").asLong(), rows);
            assertEquals(Topics.contents(cluster.bootstrapServers(), reference.data().topic(split), meta),
                    Topics.contents(cluster.bootstrapServers(), c.data().topic(split), meta),
                    "the same batches as the uninterrupted run, in the same order");
            System.err.printf("counted: %s holds %d sequences, each seq_id once, batch for batch those of the "
                    + "uninterrupted run%n", c.data().topic(split), rows);
        }
        JsonNode failures = rest("/jobs/" + run.client().getJobID() + "/exceptions").path("exceptionHistory")
                .path("entries");
        assertTrue(failures.size() >= 1, "the job failed over (and restarted) at least once: " + failures);
        assertEquals(3, replicas(c.data().topic("train")));
    }

    static int replicas(String topic) throws Exception {
        var p = new java.util.Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        try (var admin = org.apache.kafka.clients.admin.Admin.create(p)) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0).replicas()
                    .size();
        }
    }

    /** The micro model, trained long enough (80 steps) to be killed in the middle. */
    static SpeedrunConfig speedrun() {
        return Micro.config("train_tokens: 4608", "train_tokens: 30720", "eval_every: 4", "eval_every: 10");
    }

    static List<StepMetrics> metrics(Path out) throws Exception {
        return MetricsLog.read(out);
    }

    @Test
    void killingTheTrainersTaskManagerResumesWithTheLossesOfAnUninterruptedRun() throws Exception {
        PipelineConfig c = corpus("fault-trainer", 1, 64);
        PipelineRunner.of(new TokenizeJob(c), infra).overwrite(true).restartAttempts(5).start().awaitSummary();
        SpeedrunConfig s = speedrun();
        Path straight = dir.resolve("straight");
        var reference = new TrainJobConfig(s.withDataset(c.data().dataset()), straight.toString(), 300, true);
        TrainRunner.awaitResults(TrainRunner.start(reference, infra, 5), reference);

        Path killed = dir.resolve("killed");
        var job = new TrainJobConfig(s.withDataset(c.data().dataset()), killed.toString(), 300, true);
        JobClient client = TrainRunner.start(job, infra, 5);
        while (metrics(killed).size() < 20) {
            Thread.sleep(100);
        }
        String victim = taskManagerOf(client, "trainer");
        assertTrue(cluster.kill(victim, true));
        int stepAtKill = metrics(killed).size();
        System.err.println("injected: SIGKILL of " + victim + " (the trainer's TaskManager) after step " + stepAtKill);
        cluster.restart(victim);
        TrainRunner.awaitResults(client, job);
        String restores = Files.readString(killed.resolve("restores.jsonl"));
        List<StepMetrics> a = metrics(straight);
        List<StepMetrics> b = metrics(killed);
        SameRun.assertSameRun(a, b, 0);
        System.err.printf("counted: %d steps, losses and sequences equal to the uninterrupted run; restores: %s",
                b.size(), restores);
    }

    /**
     * Two ranks, one per TaskManager process (their Gloo connections cross processes), and one rank's TaskManager
     * killed mid-step: the surviving rank's collective fails at once, the job restores both from the checkpoint
     * taken after step 20 (the topic holds 20 steps' records until then), and the losses equal an uninterrupted
     * two-rank run's.
     */
    @Test
    void killingOneRanksTaskManagerResumesBothRanksWithTheLossesOfAnUninterruptedRun() throws Exception {
        assumeTrue(Trainer.ranksUnavailable().isEmpty(), () -> Trainer.ranksUnavailable().orElseThrow());
        PipelineConfig c = corpus("fault-ranks", 1, 64);
        PipelineRunner.of(new TokenizeJob(c), infra).overwrite(true).restartAttempts(5).start().awaitSummary();
        Path straight = dir.resolve("ranks-straight");
        var reference = new TrainJobConfig(speedrun().withDataset(c.data().dataset()), straight.toString(), 300, true)
                .withRanks(2);
        TrainRunner.awaitResults(TrainRunner.start(reference, infra, 5), reference);

        Path killed = dir.resolve("ranks-killed");
        var job = new TrainJobConfig(speedrun().withDataset("fault-ranks-staged"), killed.toString(), 300, false)
                .withRanks(2);
        StagedTopics.stage(infra.kafkaClient(), reference, job, 10); // 8 rows a record: 20 steps of 4
        JobClient client = TrainRunner.start(job, infra, 5);
        StagedTopics.awaitCheckpointAfterStep(killed, 20);
        List<String> ranks = taskManagersOf(client, "trainer");
        assertEquals(2, new HashSet<>(ranks).size(), "one rank per TaskManager process: " + ranks);
        String victim = ranks.get(1);
        var rest = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                StagedTopics.copyRecords(infra.kafkaClient(), reference.trainTopic(), job.trainTopic(), 10,
                        Integer.MAX_VALUE);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        while (metrics(killed).size() < 22) { // micro's steps take milliseconds: kill as soon as training goes on
            Thread.sleep(5);
        }
        assertTrue(cluster.kill(victim, true));
        int stepAtKill = metrics(killed).size();
        System.err.println("injected: SIGKILL of " + victim + " (rank 1's TaskManager) after step " + stepAtKill);
        cluster.restart(victim);
        rest.get();
        TrainRunner.awaitResults(client, job);
        JsonNode restore = JSON.readTree(Files.readString(killed.resolve("restores.jsonl")));
        assertTrue(restore.get("restored_step").asInt() >= 20 && restore.get("restored_step").asInt() <= stepAtKill,
                restore.toString());
        assertEquals(2, restore.get("ranks").asInt());
        List<StepMetrics> a = metrics(straight);
        List<StepMetrics> b = metrics(killed);
        SameRun.assertSameRun(a, b, 0);
        System.err.printf("counted: %d steps on two ranks, losses and sequences equal to the uninterrupted run; "
                + "restored: %s%n", b.size(), restore);
    }

    /** The TaskManager of each subtask of the vertex whose name contains {@code part}, by subtask index. */
    static List<String> taskManagersOf(JobClient job, String part) throws Exception {
        for (JsonNode v : rest("/jobs/" + job.getJobID()).get("vertices")) {
            if (v.get("name").asText().contains(part)) {
                List<String> byIndex = new ArrayList<>();
                for (JsonNode t : rest("/jobs/" + job.getJobID() + "/vertices/" + v.get("id").asText())
                        .get("subtasks")) {
                    byIndex.add(t.get("taskmanager-id").asText());
                }
                return byIndex;
            }
        }
        throw new AssertionError("no vertex named *" + part + "*");
    }

    @Test
    void killingAKafkaBrokerMidRunLetsPipelineAndTrainerContinue() throws Exception {
        PipelineConfig c = corpus("fault-broker", 2, 64);
        PipelineRunner.Run pipeline = PipelineRunner.of(new TokenizeJob(c), infra).overwrite(true).restartAttempts(5)
                .start();
        awaitCompletedCheckpoint(pipeline.client());
        Path out = dir.resolve("broker");
        var job = new TrainJobConfig(speedrun().withDataset(c.data().dataset()), out.toString(), 500, false);
        JobClient trainer = TrainRunner.start(job, infra, 5);
        while (metrics(out).size() < 5) {
            Thread.sleep(100);
        }
        assertTrue(cluster.kill("kafka-2", true));
        System.err.println("injected: SIGKILL of kafka-2 after trainer step " + metrics(out).size());
        try {
            ObjectNode summary = pipeline.awaitSummary();
            Results results = TrainRunner.awaitResults(trainer, job);
            assertEquals(0, summary.get("rejected_records").asInt());
            assertEquals(job.speedrun().schedules().totalTokens(), results.info().totalTokens());
            System.err.printf("counted: pipeline wrote %d train sequences, trainer finished %d steps with one broker down%n",
                    summary.get("topics").get(c.data().topic("train")).get("sequences").asLong(), metrics(out).size());
        } finally {
            cluster.restart("kafka-2");
        }
    }
}
