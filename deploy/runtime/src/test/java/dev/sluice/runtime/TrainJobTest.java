package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.PoisonRecords;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.connectors.kafka.BatchTopicReader;
import dev.sluice.connectors.kafka.DeadLetterSerializer;
import dev.sluice.connectors.kafka.KafkaTopics;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.Micro;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.Trainer;
import dev.sluice.trainer.job.Results;
import dev.sluice.trainer.job.StepListener;
import dev.sluice.trainer.job.TrainJob;
import dev.sluice.trainer.job.TrainJobConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TrainJob on a real broker and MiniCluster, reading what the TokenizeJob wrote: it trains, evaluates,
 * writes results, refuses a topic of the wrong shape, and after an injected failure resumes from its Flink
 * checkpoint with exactly the losses and sequences of a run that never stopped.
 */
class TrainJobTest {

    static Infrastructure infra;
    static PipelineConfig pipeline;

    @TempDir
    Path out;

    @BeforeAll
    static void writeTopics() throws Exception {
        infra = Infrastructure.builder().slots(8).start();
        pipeline = YamlConfig.parse("""
                data: {dataset: trainjob, tokenizer: gpt2, seq_len: 64}
                batch_sequences: 4
                val_fraction: 0.05
                parallelism: 2
                checkpoint_interval_ms: 500
                sources: [{name: sotu, paths: ["../../data/corpus/sotu-00000.jsonl.gz"]}]
                """, PipelineConfig.class);
        PipelineRunner.of(new TokenizeJob(pipeline), infra).start().awaitSummary();
    }

    @AfterAll
    static void stop() {
        infra.close();
    }

    TrainJobConfig job(Path dir) {
        return new TrainJobConfig(Micro.config().withDataset(pipeline.data().dataset()), dir.toString(), 150, true);
    }

    /**
     * Fails rank {@code rank}'s subtask once, the first time it has ended {@code step} steps (a marker file in the
     * run's directory).
     */
    record FailOnceAt(int rank, int step) implements StepListener {
        FailOnceAt(int step) {
            this(0, step);
        }

        @Override
        public void stepDone(int atRank, int stepsDone, Path outDir) throws java.io.IOException {
            Path marker = outDir.resolve(".injected-failure");
            if (atRank == rank && stepsDone == step && !Files.exists(marker)) {
                Files.createFile(marker);
                throw new IllegalStateException("injected failure of rank " + rank + " after step " + stepsDone
                        + " (test)");
            }
        }
    }

    static List<StepMetrics> metrics(Path dir) throws Exception {
        return MetricsLog.read(dir);
    }

    @Test
    void afterAKillAndRestoreTheLossesAndSequencesEqualAnUninterruptedRun() throws Exception {
        Path straightDir = out.resolve("straight");
        TrainJobConfig straight = job(straightDir);
        Path stateDir = out.resolve("state");
        Results results = TrainRunner.awaitResults(TrainRunner.start(new TrainJob(straight)
                .stateFiles(stateDir.toUri().toString(), 2), infra, 0), straight);
        List<StepMetrics> a = metrics(straightDir);
        // the model went to a file per checkpoint; completed checkpoints subsume the older ones' files
        try (var runs = Files.list(stateDir); var files = Files.list(runs.findFirst().orElseThrow())) {
            long left = files.filter(f -> f.getFileName().toString().matches("chk-\\d+\\.bin")).count();
            assertTrue(left >= 1 && left <= 3, left + " state files left");
        }
        assertEquals(12, a.size(), "steps: 4608 tokens / 64 per row / (4+8) rows per round = 6 rounds x 2 phases");
        assertEquals(4, a.get(0).batchSequences());
        assertEquals(8, a.get(11).batchSequences());
        assertTrue(a.get(11).loss() < a.get(0).loss(), "loss fell");
        assertTrue(a.get(3).valBpb() != null && a.get(2).valBpb() == null, "evaluated every 4 steps");
        StepMetrics m = a.get(5);
        assertTrue(m.lr() > 0 && m.muonMomentum() > 0 && m.tokensPerSecond() > 0 && m.flopsPerSecond() > 0, m.toString());
        assertTrue(m.dataWaitFraction() >= 0 && m.dataWaitFraction() < 1, m.toString());
        assertEquals(null, m.mfu(), "micro sets no peak_flops: no MFU");
        Results.RunInfo run = results.info();
        assertEquals(4608, run.totalTokens());
        assertTrue(run.evalBpb() > 0);
        assertEquals(3.0 * run.flopsPerToken() * 4608, run.modelFlops(), 1);
        assertTrue(Files.exists(straightDir.resolve("checkpoint/checkpoint.bin")));

        Path failedDir = out.resolve("failed");
        TrainJobConfig failing = job(failedDir);
        Results resumedResults = TrainRunner.awaitResults(TrainRunner.start(new TrainJob(failing)
                .afterEachStep(new FailOnceAt(7)), infra, 2), failing);
        assertTrue(Files.exists(failedDir.resolve(".injected-failure")), "the failure was injected");
        String restores = Files.readString(failedDir.resolve("restores.jsonl"));
        int restoredStep = new ObjectMapper().readTree(restores.lines().findFirst().orElseThrow())
                .get("restored_step").asInt();
        System.err.println("injected a failure after step 7; the job restored at step " + restoredStep);
        assertTrue(restoredStep > 0 && restoredStep <= 7, "restored from a checkpoint taken mid-run: " + restores);
        List<StepMetrics> b = metrics(failedDir);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).step(), b.get(i).step());
            assertEquals(a.get(i).loss(), b.get(i).loss(), "loss at step " + i);
            assertEquals(a.get(i).seqIdHash(), b.get(i).seqIdHash(), "sequences of step " + i);
        }
        assertEquals(run.evalBpb(), resumedResults.info().evalBpb());
    }

    @Test
    void onTwoReplicasTheJobTrainsTheSameSequencesToTheSameLosses() throws Exception {
        TrainJobConfig one = job(out.resolve("one"));
        TrainRunner.awaitResults(TrainRunner.start(one, infra, 0), one);
        SpeedrunConfig twoDevices = Micro.config().withTrain(Map.of("devices", List.of("cpu", "cpu")));
        TrainJobConfig two = new TrainJobConfig(twoDevices.withDataset(pipeline.data().dataset()),
                out.resolve("two").toString(), 150, true);
        TrainRunner.awaitResults(TrainRunner.start(two, infra, 0), two);
        List<StepMetrics> a = metrics(out.resolve("one"));
        List<StepMetrics> b = metrics(out.resolve("two"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).seqIdHash(), b.get(i).seqIdHash(), "sequences of step " + i);
            assertEquals(a.get(i).loss(), b.get(i).loss(), 1e-5 * a.get(i).loss(), "loss at step " + i);
            assertEquals(2, b.get(i).deviceStepShare().size());
        }
        assertEquals(null, a.get(0).deviceStepShare());
    }

    /**
     * Two ranks (two trainer subtasks in one real Gloo group) against one rank whose host has two devices: the same
     * two passes over the same halves, so the same losses. Then, on a topic that first holds only six steps' rows:
     * rank 1 fails after step 8, the whole job restores from a checkpoint taken after step 6 or 7, the ranks meet again
     * under a new attempt's prefix, and the run ends with the uninterrupted run's losses; and a savepoint of two ranks
     * after step 6 resumes on one rank.
     */
    @Test
    void twoRanksTrainAsOneRankWithTwoDevicesResumeAfterAKilledRankAndRestoreOnOneRank() throws Exception {
        assumeTrue(Trainer.ranksUnavailable().isEmpty(), () -> Trainer.ranksUnavailable().orElseThrow());
        SpeedrunConfig twoDevices = Micro.config().withTrain(Map.of("devices", List.of("cpu", "cpu")));
        TrainJobConfig reference = new TrainJobConfig(twoDevices.withDataset(pipeline.data().dataset()),
                out.resolve("devices").toString(), 150, true);
        Results one = TrainRunner.awaitResults(TrainRunner.start(reference, infra, 0), reference);
        TrainJobConfig ranks = job(out.resolve("ranks")).withRanks(2);
        Results two = TrainRunner.awaitResults(TrainRunner.start(new TrainJob(ranks)
                .ranks(null, Duration.ofSeconds(30)), infra, 0), ranks);
        List<StepMetrics> a = metrics(out.resolve("devices"));
        List<StepMetrics> b = metrics(out.resolve("ranks"));
        SameRun.assertSameRun(a, b, 1e-5);
        assertEquals(1, one.info().ranks());
        assertEquals(2, two.info().ranks());
        assertEquals(one.info().evalTokens(), two.info().evalTokens(), "the ranks evaluated every row once");
        assertEquals(one.info().evalBpb(), two.info().evalBpb(), 1e-6 * one.info().evalBpb());

        // a killed rank: the restore comes from a checkpoint after step 6 (all the topic holds at first) or 7
        TrainJobConfig killed = staged("killed", 6).withRanks(2);
        Path killedDir = Path.of(killed.outDir());
        JobClient client = TrainRunner.start(new TrainJob(killed).ranks(null, Duration.ofSeconds(30))
                .afterEachStep(new FailOnceAt(1, 8)), infra, 2);
        StagedTopics.awaitCheckpointAfterStep(killedDir, 6);
        StagedTopics.copyRecords(infra.kafkaClient(), ranks.trainTopic(), killed.trainTopic(), 6, Integer.MAX_VALUE);
        Results resumed = TrainRunner.awaitResults(client, killed);
        assertTrue(Files.exists(killedDir.resolve(".injected-failure")), "rank 1 was failed");
        var restore = new ObjectMapper().readTree(Files.readString(killedDir.resolve("restores.jsonl")));
        int restoredStep = restore.get("restored_step").asInt();
        assertTrue(restoredStep >= 6 && restoredStep < 8, "restored after step 6 or 7, not from the start: " + restore);
        assertEquals(2, restore.get("ranks").asInt());
        SameRun.assertSameRun(b, metrics(killedDir), 0);
        assertEquals(two.info().evalBpb(), resumed.info().evalBpb());

        // another number of ranks: a savepoint of two ranks after step 6 resumes on one rank with two devices
        TrainJobConfig halted = staged("rescaled", 6).withRanks(2);
        Path rescaledDir = Path.of(halted.outDir());
        JobClient first = TrainRunner.start(new TrainJob(halted).ranks(null, Duration.ofSeconds(30)), infra, 0);
        StagedTopics.awaitCheckpointAfterStep(rescaledDir, 6);
        String savepoint = first.stopWithSavepoint(false, out.resolve("savepoint").toUri().toString(),
                SavepointFormatType.CANONICAL).get();
        StagedTopics.copyRecords(infra.kafkaClient(), ranks.trainTopic(), halted.trainTopic(), 6, Integer.MAX_VALUE);
        TrainJobConfig onOne = new TrainJobConfig(twoDevices.withDataset(halted.speedrun().data().dataset()),
                halted.outDir(), 150, false);
        TrainJob job = new TrainJob(onOne);
        job.preflight(infra.kafkaClient());
        var env = infra.environment(0, savepoint);
        job.build(env, infra.kafkaClient());
        Results rescaled = TrainRunner.awaitResults(env.executeAsync(job.name()), onOne);
        restore = new ObjectMapper().readTree(Files.readString(rescaledDir.resolve("restores.jsonl")));
        assertEquals(6, restore.get("restored_step").asInt(), restore.toString());
        assertEquals(1, restore.get("ranks").asInt());
        assertEquals(1, rescaled.info().ranks());
        SameRun.assertSameRun(b, metrics(rescaledDir), 1e-5);
    }

    /** A dataset of its own whose train topic holds only the test topic's first {@code records} records at first. */
    private TrainJobConfig staged(String dataset, int records) throws Exception {
        TrainJobConfig staged = new TrainJobConfig(Micro.config().withDataset(dataset), out.resolve(dataset).toString(),
                150, false);
        StagedTopics.stage(infra.kafkaClient(), job(out), staged, records);
        return staged;
    }

    @Test
    void aTopicWrittenForAnotherSeqLenIsRefusedBeforeTheFirstStep() {
        SpeedrunConfig other = Micro.config("seq_len: 64", "seq_len: 32");
        var config = new TrainJobConfig(other.withDataset(pipeline.data().dataset()), out.toString(), 500, true);
        var e = assertThrows(IllegalStateException.class, () -> TrainRunner.start(config, infra, 0));
        assertTrue(e.getMessage().contains("seq_len is 64, expected 32"), e.getMessage());
        var missing = new TrainJobConfig(other.withDataset("nothing"), out.toString(), 500, true);
        var m = assertThrows(IllegalStateException.class, () -> TrainRunner.start(missing, infra, 0));
        assertTrue(m.getMessage().contains("does not exist"), m.getMessage());
    }

    @Test
    void badRecordsOfEachKindGoToTheDeadLetterTopicAndTrainingReadsOnAsIfTheyWereNotThere() throws Exception {
        TrainJobConfig clean = job(out.resolve("clean"));
        TrainRunner.awaitResults(TrainRunner.start(clean, infra, 0), clean);
        TrainJobConfig poisoned = new TrainJobConfig(Micro.config().withDataset("poisoned"),
                out.resolve("poisoned").toString(), 150, true);
        Map<String, byte[]> poison;
        List<String> poisonedAt = new ArrayList<>();
        try (var reader = new BatchTopicReader(infra.kafkaClient());
             var producer = new KafkaProducer<>(producerProperties(), new ByteArraySerializer(),
                     new ByteArraySerializer())) {
            BatchMeta meta = clean.data().meta("gpt2");
            poison = PoisonRecords.of(meta, reader.readAll(clean.trainTopic(), meta).get(0).get(0));
            int partitions = reader.readAll(clean.trainTopic(), meta).size();
            KafkaTopics.prepare(infra.kafkaClient(), List.of(new NewTopic(poisoned.trainTopic(), partitions, (short) 1),
                    new NewTopic(poisoned.valTopic(), partitions, (short) 1)), false);
            copy(reader, producer, clean.valTopic(), poisoned.valTopic(), List.of(), poisonedAt);
            // one bad record of each kind between the good ones of partition 0, the first before any good one
            copy(reader, producer, clean.trainTopic(), poisoned.trainTopic(), List.copyOf(poison.values()), poisonedAt);
        }
        TrainRunner.awaitResults(TrainRunner.start(poisoned, infra, 0), poisoned);

        List<StepMetrics> a = metrics(Path.of(clean.outDir()));
        List<StepMetrics> b = metrics(Path.of(poisoned.outDir()));
        SameRun.assertSameRun(a, b, 0);
        List<String> dead = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(consumerProperties(), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            var partition = new TopicPartition(DeadLetterSerializer.topicOf(poisoned.trainTopic()), 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            while (consumer.position(partition) < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
                    String source = new String(r.headers().lastHeader(DeadLetterSerializer.SOURCE_HEADER).value(),
                            StandardCharsets.UTF_8);
                    String error = new String(r.headers().lastHeader(DeadLetterSerializer.ERROR_HEADER).value(),
                            StandardCharsets.UTF_8);
                    assertTrue(error.startsWith(source + ": "), error);
                    assertTrue(poison.values().stream().anyMatch(v -> Arrays.equals(v, r.value())), "kept as read");
                    dead.add(source);
                }
            }
        }
        assertEquals(poisonedAt, dead, "each bad record once, in order, naming where it was read");
    }

    /** Copies {@code from} to {@code to} partition by partition, putting {@code bad} records first in partition 0. */
    private static void copy(BatchTopicReader reader, KafkaProducer<byte[], byte[]> producer, String from, String to,
                             List<byte[]> bad, List<String> badAt) throws Exception {
        long[] next = new long[64];
        List<byte[]> pending = new ArrayList<>(bad);
        reader.forEachRecord(from, (partition, offset, value) -> {
            try {
                if (partition == 0 && !pending.isEmpty()) {
                    producer.send(new ProducerRecord<>(to, 0, null, pending.remove(0))).get();
                    badAt.add(to + "/0@" + next[0]++);
                }
                producer.send(new ProducerRecord<>(to, partition, null, value)).get();
                next[partition]++;
                return true;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        if (!pending.isEmpty()) {
            throw new IllegalStateException(from + " has too few records in partition 0 to interleave " + bad.size());
        }
    }

    private static java.util.Properties producerProperties() {
        var p = new java.util.Properties();
        p.putAll(infra.kafkaClient());
        p.put("max.request.size", Integer.toString(64 << 20));
        return p;
    }

    private static java.util.Properties consumerProperties() {
        var p = new java.util.Properties();
        p.putAll(infra.kafkaClient());
        p.put("max.partition.fetch.bytes", Integer.toString(64 << 20));
        return p;
    }
}
