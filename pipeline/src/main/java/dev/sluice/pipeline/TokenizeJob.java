package dev.sluice.pipeline;

import dev.sluice.contract.DataContract;
import dev.sluice.contract.TokenizerId;
import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.connectors.corpus.CorpusFormat;
import dev.sluice.connectors.corpus.CorpusRecord;
import dev.sluice.connectors.corpus.CorpusSource;
import dev.sluice.connectors.corpus.CorpusSources;
import dev.sluice.connectors.corpus.ShardSchedule;
import dev.sluice.connectors.kafka.KafkaTopics;
import dev.sluice.connectors.kafka.TokenBatchSerializer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * The TokenizeJob: corpus shards → tokenize (chained to the readers) → pack (keyed by split) → mixture sample and
 * shuffle → Arrow batches → Kafka (EXACTLY_ONCE), one topic per split. {@link #build} adds it to an environment; where that runs (the embedded
 * MiniCluster or a remote cluster) is the caller's business.
 */
public final class TokenizeJob {

    /** How long a checkpoint may take before Flink declares it failed (set explicitly: the transactions depend on it). */
    static final Duration CHECKPOINT_TIMEOUT = Duration.ofMinutes(5);
    /** The producers' transaction timeout unless kafka.properties sets one: a default broker's maximum. */
    static final long DEFAULT_TRANSACTION_TIMEOUT_MS = Duration.ofMinutes(15).toMillis();

    private final DataContract data;
    private final PipelineConfig config;
    private final List<ShardSchedule.Shard> shards;
    private final ShardSchedule schedule;
    /** Part of the transactional ids, so that two runs writing the same dataset never fence each other. */
    private final String runId = UUID.randomUUID().toString().substring(0, 8);

    /** Checks the whole config (tokenizer name, every corpus path) before anything runs. */
    public TokenizeJob(PipelineConfig config) {
        this(config.data(), config);
    }

    /**
     * The corpus and settings of {@code config} written under {@code data} (a speedrun's or an ablation's own block,
     * which decides the dataset, the tokenizers and seq_len; the config's block, if it has one, is not read).
     */
    public TokenizeJob(DataContract data, PipelineConfig config) {
        this.data = data;
        this.config = config;
        data.tokenizers().forEach(TokenizerId::checked);
        Map<Path, String> owner = new TreeMap<>();
        for (PipelineConfig.Source s : config.sources()) {
            for (Path p : CorpusSources.listShards(s.paths())) {
                String previous = owner.put(p, s.name());
                if (previous != null && !previous.equals(s.name())) {
                    throw new IllegalArgumentException("shard " + p + " is listed by sources '" + previous + "' and '"
                            + s.name() + "'; a shard belongs to one source");
                }
            }
        }
        this.shards = owner.entrySet().stream().map(e -> new ShardSchedule.Shard(e.getKey(), e.getValue())).toList();
        Map<String, Double> weights = new HashMap<>();
        config.sources().forEach(s -> weights.put(s.name(), s.weight()));
        this.schedule = ShardSchedule.plan(shards, weights, config.epochs(), config.splitBytes());
    }

    public List<ShardSchedule.Shard> shards() {
        return shards;
    }

    public DataContract data() {
        return data;
    }

    public PipelineConfig config() {
        return config;
    }

    public List<String> topics() {
        return data.topics();
    }

    /** The job's name in the Flink Web UI. */
    public String name() {
        return "sluice tokenize " + data.dataset() + " (" + String.join(", ", data.tokenizers()) + ")";
    }

    /**
     * Creates the job's topics (partitions from the config, replication from the config's
     * {@code kafka.properties.replication.factor}, else what the cluster allows). A topic that already holds
     * batches is refused unless {@code overwrite}, so seq_ids are never written twice.
     */
    public void prepareTopics(Properties kafka, boolean overwrite) {
        requireTransactionTimeout(kafka);
        String configured = config.kafka().properties().get("replication.factor");
        short replication = configured != null ? Short.parseShort(configured) : KafkaTopics.defaultReplication(kafka);
        KafkaTopics.prepare(kafka, topics().stream().map(t -> new NewTopic(t, config.partitions(), replication))
                .toList(), overwrite);
    }

    /** Before resuming from a savepoint: the topics stay as they are (they hold what was written before it). */
    public void prepareTopicsForRestore(Properties kafka) {
        requireTransactionTimeout(kafka);
        short replication = KafkaTopics.defaultReplication(kafka);
        topics().forEach(t -> KafkaTopics.ensure(kafka, t, config.partitions(), replication));
    }

    /**
     * A transaction stays open from one checkpoint until the next completes, and across a recovery: if the broker
     * aborts it first (transaction.timeout.ms), committed-looking data is lost. So the timeout must exceed the
     * checkpoint interval plus {@link #CHECKPOINT_TIMEOUT} with a minute to spare, and not exceed the brokers'
     * transaction.max.timeout.ms (else every producer fails to start). Checked before the job is submitted.
     */
    void requireTransactionTimeout(Properties kafka) {
        long timeout = transactionTimeoutMs();
        long needed = config.checkpointIntervalMs() + CHECKPOINT_TIMEOUT.toMillis() + Duration.ofMinutes(1).toMillis();
        if (timeout < needed) {
            throw new IllegalArgumentException("kafka.properties.transaction.timeout.ms is " + timeout + " ms; with "
                    + "checkpoint_interval_ms " + config.checkpointIntervalMs() + " and a checkpoint timeout of "
                    + CHECKPOINT_TIMEOUT.toMillis() + " ms a transaction can stay open longer, and the broker would "
                    + "abort it: set at least " + needed);
        }
        long brokerMax = KafkaTopics.brokerTransactionMaxTimeoutMs(kafka);
        if (timeout > brokerMax) {
            throw new IllegalArgumentException("kafka.properties.transaction.timeout.ms is " + timeout + " ms, above "
                    + "the brokers' transaction.max.timeout.ms (" + brokerMax + "): lower it to at most " + brokerMax
                    + " (and at least " + needed + "), or raise the brokers' limit");
        }
    }

    private long transactionTimeoutMs() {
        String configured = config.kafka().properties().get("transaction.timeout.ms");
        return configured != null ? Long.parseLong(configured) : DEFAULT_TRANSACTION_TIMEOUT_MS;
    }

    /** Adds the job's operators to {@code env}; Kafka client properties (bootstrap, security) come in {@code kafka}. */
    public void build(StreamExecutionEnvironment env, Properties kafka) {
        boolean bounded = config.watchIntervalMs() == 0;
        DataStream<CorpusRecord> corpus = corpus(env);
        // Where each split stands on the mixture clock: what the samplers order by.
        double[][] clock = new double[bounded ? schedule.splits().size() : 0][];
        for (int i = 0; i < clock.length; i++) {
            clock[i] = new double[] {schedule.splits().get(i).start(), schedule.splits().get(i).span()};
        }

        List<String> sourceNames = config.sources().stream().map(PipelineConfig.Source::name).toList();
        // One branch per tokenizer over the same documents: an A/B writes one pair of topics per tokenizer.
        for (String name : data.tokenizers()) {
            TokenizerId tokenizer = TokenizerId.of(name);
            String prefix = data.topicPrefix(name);
            String tag = data.tokenizers().size() == 1 ? "" : "-" + prefix;
            // Pack is keyed by split rather than chained to the reader: a split's partial window must move with the
            // split on a restore at another parallelism, and the only operator state that could carry it (union
            // list state) is refused by Flink once some of a bounded source's readers have finished (FLIP-147).
            DataStream<PackedSequence> packed = tokenize(corpus, name, tag)
                    .keyBy(TokenizedRecord::shardOrdinal)
                    .process(new Pack(data.seqLen(), config.packing().equals("bos_aligned"),
                            tokenizer.load().bosId(), prefix))
                    .returns(PackedSequence.class)
                    .setParallelism(config.parallelism())
                    .name("pack (" + name + ")").uid("pack" + tag);

            BatchMeta meta = data.meta(name);
            for (String split : List.of(DataContract.TRAIN, DataContract.VAL)) {
                String topic = data.topic(name, split);
                DataStream<TokenBatch> batches = packed
                        .filter(s -> s.split().equals(split)).setParallelism(config.parallelism())
                        .name("split " + split)
                        .partitionCustom((ordinal, n) -> ordinal % n, PackedSequence::shardOrdinal)
                        .process(MixtureBatchFunction.builder().writes(split, topic, meta)
                                .batchSequences(config.batchSequences()).sources(sourceNames).clock(clock)
                                .shuffle(config.seed(), config.shuffleBuffer()).bounded(bounded).shardSet(shardSet())
                                .build())
                        .returns(TypeInformation.of(TokenBatch.class))
                        .setParallelism(config.partitions())
                        .name("sample + shuffle + batch → " + topic).uid("batch-" + split + tag);
                batches.sinkTo(kafkaSink(topic, kafka))
                        .setParallelism(config.partitions())
                        .name("kafka: " + topic).uid("sink-" + split + tag);
            }
        }
    }

    /**
     * The job's first half for references that measure what Flink's runtime costs by itself: checkpointing as the
     * job's, the corpus read and tokenized by the first tokenizer exactly as the job does; nothing packed or written.
     */
    public DataStream<TokenizedRecord> readAndTokenize(StreamExecutionEnvironment env) {
        return tokenize(corpus(env), data.tokenizers().get(0), "");
    }

    /** Checkpointing, and the corpus source over this job's schedule. */
    private DataStream<CorpusRecord> corpus(StreamExecutionEnvironment env) {
        env.enableCheckpointing(config.checkpointIntervalMs(), CheckpointingMode.EXACTLY_ONCE);
        env.getCheckpointConfig().setCheckpointTimeout(CHECKPOINT_TIMEOUT.toMillis());
        boolean bounded = config.watchIntervalMs() == 0;
        Map<String, CorpusFormat.Options> options = new HashMap<>();
        Map<String, List<String>> patterns = new HashMap<>();
        for (PipelineConfig.Source s : config.sources()) {
            options.put(s.name(), new CorpusFormat.Options(s.name(), s.textField(),
                    s.textMode().equals("block") ? CorpusFormat.TextMode.BLOCK : CorpusFormat.TextMode.FILE,
                    config.maxDocumentBytes()));
            if (s.weight() > 0) {
                patterns.put(s.name(), s.paths().stream().map(CorpusSources::absolute).toList());
            }
        }
        int readers = Math.max(1, Math.min(config.parallelism(), bounded ? schedule.splits().size() : config.parallelism()));
        CorpusSource.Builder source = CorpusSource.forSchedule(schedule, options, config.splitBytes());
        if (!bounded) {
            source.monitorContinuously(patterns, Duration.ofMillis(config.watchIntervalMs()));
        }
        return env.fromSource(source.build(), WatermarkStrategy.noWatermarks(), "corpus")
                .setParallelism(readers)
                .uid("corpus");
    }

    /** Tokenizing chained to the readers (same parallelism, forward), counted under the tokenizer's topic prefix. */
    private DataStream<TokenizedRecord> tokenize(DataStream<CorpusRecord> corpus, String name, String tag) {
        return corpus
                .process(new Tokenize(TokenizerId.of(name), config.valFraction(), data.topicPrefix(name)))
                .returns(TokenizedRecord.class)
                .setParallelism(corpus.getParallelism())
                .name("tokenize (" + name + ")").uid("tokenize" + tag);
    }

    /** The schedule this job was submitted with, as a short name for it (split count and a hash of the plan). */
    String shardSet() {
        return schedule.fingerprint() + ", " + config.epochs() + " epochs";
    }

    public ShardSchedule schedule() {
        return schedule;
    }

    /** Unique per run of this job, so that two runs writing the same topic never fence each other's producers. */
    public String transactionalIdPrefix(String topic) {
        return "sluice-" + topic + "-" + runId;
    }

    private KafkaSink<TokenBatch> kafkaSink(String topic, Properties kafka) {
        Properties producer = new Properties();
        producer.putAll(kafka);
        // The connector's default (1 h) exceeds a default broker's transaction.max.timeout.ms (15 min).
        producer.putIfAbsent("transaction.timeout.ms", Long.toString(DEFAULT_TRANSACTION_TIMEOUT_MS));
        producer.putIfAbsent("max.request.size", Integer.toString(64 << 20));
        // Uncompressed by default: token ids compress little and LZ4 cost ~30 % of the pipeline's throughput on 2
        // cores (measured); set kafka.properties.compression.type to trade CPU for disk.
        producer.putIfAbsent("compression.type", "none");
        return KafkaSink.<TokenBatch>builder()
                .setBootstrapServers(kafka.getProperty("bootstrap.servers"))
                .setKafkaProducerConfig(producer)
                .setRecordSerializer(new TokenBatchSerializer(topic))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix(topic))
                .build();
    }
}
