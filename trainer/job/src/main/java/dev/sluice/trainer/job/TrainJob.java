package dev.sluice.trainer.job;

import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.connectors.kafka.BatchRecord;
import dev.sluice.connectors.kafka.BatchTopicReader;
import dev.sluice.connectors.kafka.DeadLetterSerializer;
import dev.sluice.connectors.kafka.KafkaTopics;
import dev.sluice.connectors.kafka.TokenBatchDeserializer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.UUID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.Partitioner;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * The TrainJob: KafkaSource of the train topic → Arrow decode → bad records (not Arrow, another tokenizer or
 * seq_len, wrong sizes, ids outside the vocabulary) set aside to {@code <topic>.dlq} → the step dealer, which cuts
 * the rows into steps by the batch-size schedule and each step into one shard per rank → the trainer ranks
 * (parallelism {@code ranks}, one Gloo group). One source reader and one dealer, so the rows' order is the topic's
 * (one partition: fully deterministic) whatever the number of ranks.
 */
public final class TrainJob {

    private final TrainJobConfig config;
    private final BatchMeta meta;
    private String stateDir;
    private int stateFilesRetained = 2;
    private StepListener listener = StepListener.NONE;
    private String rankStoreDir;
    private Duration rankTimeout = Duration.ofSeconds(120);

    public TrainJob(TrainJobConfig config) {
        this.config = config;
        this.meta = config.data().meta(config.data().tokenizer());
    }

    /** Checks the train topic's declared tokenizer and seq_len against ours; a clear error before any step. */
    public void preflight(Properties kafka) {
        BatchTopicReader.requireMeta(kafka, config.trainTopic(), meta);
        KafkaTopics.ensure(kafka, DeadLetterSerializer.topicOf(config.trainTopic()), 1,
                KafkaTopics.defaultReplication(kafka));
    }

    /**
     * Where the trainer's model and optimizer state go at each checkpoint (a Flink FileSystem URI every TaskManager
     * reaches; default: the job's checkpoint directory, else {@code <out>/trainer-state}), and how many completed
     * checkpoints' files to keep.
     */
    public TrainJob stateFiles(String dir, int retained) {
        if (retained < 1) {
            throw new IllegalArgumentException("--state-files-retained must be >= 1 (got " + retained + ")");
        }
        this.stateDir = dir;
        this.stateFilesRetained = retained;
        return this;
    }

    /**
     * Where ranks meet (a directory every rank can write; default {@code <out>/ranks}) and how long a rendezvous or
     * collective may wait for a rank before the job fails (default 120 s).
     */
    public TrainJob ranks(String storeDir, Duration timeout) {
        this.rankStoreDir = storeDir;
        this.rankTimeout = timeout;
        return this;
    }

    /** Told after each step inside the job (tests fail a job at a chosen step with it). */
    public TrainJob afterEachStep(StepListener listener) {
        this.listener = listener;
        return this;
    }

    /** The job's name in the Flink Web UI. */
    public String name() {
        return "sluice train " + config.speedrun().name() + " on " + config.trainTopic();
    }

    /** A directory of this submission's own under the chosen base, so runs sharing a file system never collide. */
    private String stateDir(StreamExecutionEnvironment env) {
        String base = stateDir != null ? stateDir
                : env.getConfiguration().getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY)
                        .orElse(Path.of(config.outDir(), "trainer-state").toUri().toString());
        return base.replaceAll("/+$", "") + "/sluice-trainer-" + UUID.randomUUID();
    }

    /**
     * This submission's rendezvous. A rank blocked in a native Gloo wait does not see Flink's cancel, so its timeout
     * must end the wait before Flink's task cancellation timeout would kill the whole TaskManager.
     */
    private RankRendezvous rendezvous(StreamExecutionEnvironment env) {
        long cancellation = env.getConfiguration().get(TaskManagerOptions.TASK_CANCELLATION_TIMEOUT).toMillis();
        if (config.ranks() > 1 && cancellation > 0 && rankTimeout.toMillis() >= cancellation) {
            throw new IllegalArgumentException("--rank-timeout " + rankTimeout.toSeconds() + " s must be below "
                    + "Flink's task.cancellation.timeout (" + cancellation / 1000 + " s), or a dead rank could take "
                    + "its TaskManager down with it");
        }
        String base = rankStoreDir != null ? rankStoreDir : Path.of(config.outDir(), "ranks").toString();
        return new RankRendezvous(Path.of(base, "sluice-ranks-" + UUID.randomUUID()).toString(),
                rankTimeout.toMillis());
    }

    /** Shard r goes to subtask r: the trainer's subtask index is its rank. */
    private static final class ToRank implements Partitioner<Integer> {
        @Override
        public int partition(Integer rank, int subtasks) {
            return rank;
        }
    }

    private static final class RankOf implements KeySelector<StepShard, Integer> {
        @Override
        public Integer getKey(StepShard shard) {
            return shard.rank();
        }
    }

    public void build(StreamExecutionEnvironment env, Properties kafka) {
        env.enableCheckpointing(config.checkpointIntervalMs(), CheckpointingMode.EXACTLY_ONCE);
        Properties consumer = new Properties();
        consumer.putAll(kafka);
        consumer.put("isolation.level", "read_committed");
        consumer.put("max.partition.fetch.bytes", Integer.toString(64 << 20));
        var source = KafkaSource.<BatchRecord>builder()
                .setBootstrapServers(kafka.getProperty("bootstrap.servers"))
                .setTopics(config.trainTopic())
                .setGroupId("sluice-train-" + config.speedrun().name())
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new TokenBatchDeserializer(meta))
                .setProperties(consumer);
        if (config.bounded()) {
            source.setBounded(OffsetsInitializer.latest());
        }
        var batches = env.fromSource(source.build(), WatermarkStrategy.noWatermarks(), "kafka: " + config.trainTopic())
                .setParallelism(1).uid("train-source")
                .process(new SetAsideBadRecords()).returns(TokenBatch.class).setParallelism(1)
                .name("set aside bad records").uid("bad-records");
        // at least once: after a restore a bad record may be set aside twice (its headers say where it was read);
        // a bad record can be as large as a batch, so the producer takes what the topic takes
        Properties deadLetters = new Properties();
        deadLetters.putAll(kafka);
        deadLetters.putIfAbsent("max.request.size", Integer.toString(64 << 20));
        batches.getSideOutput(SetAsideBadRecords.BAD).sinkTo(KafkaSink.<BatchRecord.Bad>builder()
                        .setBootstrapServers(kafka.getProperty("bootstrap.servers")).setKafkaProducerConfig(deadLetters)
                        .setRecordSerializer(new DeadLetterSerializer())
                        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE).build())
                .setParallelism(1).name("dead letters: " + DeadLetterSerializer.topicOf(config.trainTopic()))
                .uid("dead-letters");
        var stateFilesAt = new StateFiles.Location(stateDir(env), stateFilesRetained);
        var shards = batches.process(new StepDealer(config)).returns(StepShard.class).setParallelism(1)
                .name("deal steps to " + config.ranks() + " rank(s)").uid("step-dealer");
        var dealt = config.ranks() == 1 ? shards : shards.partitionCustom(new ToRank(), new RankOf());
        dealt.process(new TrainerFunction(config, kafka, stateFilesAt, rendezvous(env), listener)).returns(Types.STRING)
                .setParallelism(config.ranks()).name("trainer: " + config.speedrun().name()).uid("trainer")
                .sinkTo(new DiscardingSink<>()).setParallelism(config.ranks()).name("step log");
    }
}
