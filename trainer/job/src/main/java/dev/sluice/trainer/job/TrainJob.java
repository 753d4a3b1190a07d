package dev.sluice.trainer.job;

import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.connectors.kafka.BatchRecord;
import dev.sluice.connectors.kafka.BatchTopicReader;
import dev.sluice.connectors.kafka.DeadLetterSerializer;
import dev.sluice.connectors.kafka.KafkaTopics;
import dev.sluice.connectors.kafka.TokenBatchDeserializer;
import java.nio.file.Path;
import java.util.Properties;
import java.util.UUID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * The TrainJob: KafkaSource of the train topic → Arrow decode → bad records (not Arrow, another tokenizer or
 * seq_len, wrong sizes, ids outside the vocabulary) set aside to {@code <topic>.dlq} → the trainer operator, which assembles steps by the batch-size schedule. One source reader and one
 * trainer, so the rows' order is the topic's (one partition: fully deterministic).
 */
public final class TrainJob {

    private final TrainJobConfig config;
    private final BatchMeta meta;
    private String stateDir;
    private int stateFilesRetained = 2;
    private StepListener listener = StepListener.NONE;

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
        batches.process(new TrainerFunction(config, kafka, stateFilesAt, listener)).returns(Types.STRING)
                .setParallelism(1).name("trainer: " + config.speedrun().name()).uid("trainer")
                .sinkTo(new DiscardingSink<>()).setParallelism(1).name("step log");
    }
}
