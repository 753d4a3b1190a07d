package dev.sluice.pipeline;

import static dev.sluice.contract.config.YamlConfig.require;

import dev.sluice.contract.DataContract;
import dev.sluice.contract.config.YamlConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything a TokenizeJob needs, loaded from YAML (see {@code configs/pipeline-demo.yaml}). Fields left out
 * take the defaults below; anything invalid fails at load, naming the field.
 *
 * @param data the {@code data:} block: dataset, tokenizers (several fan the same documents out to one pair of topics
 *     per tokenizer, an A/B) and seq_len; under a speedrun or an ablation the run's own block is used instead, so
 *     a corpus file given there may leave it out
 * @param batchSequences sequences per Arrow RecordBatch (one Kafka record)
 * @param packing {@code bos_aligned} or {@code concat}
 * @param seed drives the mixture sampling and the shuffle
 * @param valFraction share of documents (by stable hash of their text) that go to the validation topic
 * @param shuffleBuffer sequences held by the seeded shuffle buffer
 * @param partitions Kafka partitions per topic; each is written in a deterministic order by one subtask
 * @param parallelism tasks that read and tokenize shards
 * @param epochs passes over the corpus in bounded mode
 * @param watchIntervalMs when above 0, run unbounded: watch the corpus directories for new shards this often
 *     (0, the default: bounded)
 * @param checkpointIntervalMs Flink checkpoint interval; Kafka transactions commit at each checkpoint
 * @param maxDocumentBytes larger documents are rejected (counted and logged), not tokenized
 * @param splitBytes uncompressed JSON-lines and Parquet shards are read in byte ranges of this size (the unit the
 *     sampler orders and holds; see {@link dev.sluice.connectors.corpus.ShardSchedule})
 * @param sources the corpus sources and their mixture weights
 * @param kafka the Kafka cluster to write to; absent means the embedded broker
 */
public record PipelineConfig(DataContract data, Integer batchSequences, String packing, long seed, double valFraction,
                             Integer shuffleBuffer, Integer partitions, Integer parallelism, Integer epochs,
                             long watchIntervalMs, Long checkpointIntervalMs, Integer maxDocumentBytes, Long splitBytes,
                             List<Source> sources, Kafka kafka) {

    /** The largest max_document_bytes: one document is one Java array, and line buffers grow by doubling. */
    public static final int MAX_DOCUMENT_BYTES = 1 << 30;

    public PipelineConfig {
        // a field left out takes its default; a value given is checked as given (0 is refused, not a default)
        batchSequences = batchSequences == null ? 64 : batchSequences;
        packing = packing == null ? "bos_aligned" : packing;
        shuffleBuffer = shuffleBuffer == null ? 1024 : shuffleBuffer;
        partitions = partitions == null ? 1 : partitions;
        parallelism = parallelism == null ? 2 : parallelism;
        epochs = epochs == null ? 1 : epochs;
        checkpointIntervalMs = checkpointIntervalMs == null ? 2000 : checkpointIntervalMs;
        maxDocumentBytes = maxDocumentBytes == null ? 16 << 20 : maxDocumentBytes;
        splitBytes = splitBytes == null ? 64L << 20 : splitBytes;
        kafka = kafka == null ? new Kafka(null, Map.of()) : kafka;
        require(batchSequences > 0, "batch_sequences", "must be > 0", batchSequences);
        require(packing.equals("bos_aligned") || packing.equals("concat"), "packing", "must be bos_aligned or concat",
                packing);
        require(valFraction >= 0 && valFraction < 1, "val_fraction", "must be in [0, 1)", valFraction);
        require(shuffleBuffer > 0, "shuffle_buffer", "must be > 0", shuffleBuffer);
        require(partitions > 0, "partitions", "must be > 0", partitions);
        require(parallelism > 0, "parallelism", "must be > 0", parallelism);
        require(epochs > 0, "epochs", "must be > 0", epochs);
        require(watchIntervalMs >= 0, "watch_interval_ms", "must be >= 0", watchIntervalMs);
        require(watchIntervalMs == 0 || epochs == 1, "epochs", "must be 1 when watching for new shards", epochs);
        require(checkpointIntervalMs > 0, "checkpoint_interval_ms", "must be > 0", checkpointIntervalMs);
        require(maxDocumentBytes > 0 && maxDocumentBytes <= MAX_DOCUMENT_BYTES, "max_document_bytes",
                "must be in [1, " + MAX_DOCUMENT_BYTES + "] (a document is held in memory whole)", maxDocumentBytes);
        require(splitBytes >= 1 << 16, "split_bytes", "must be at least 65536", splitBytes);
        require(sources != null && !sources.isEmpty(), "sources", "must list at least one source", sources);
        require(sources.stream().anyMatch(s -> s.weight() > 0), "sources", "must have a source of weight > 0",
                sources.stream().map(Source::weight).toList());
        require(sources.stream().map(Source::name).distinct().count() == sources.size(), "sources",
                "must have distinct names", sources.stream().map(Source::name).toList());
        sources = List.copyOf(sources);
    }

    /**
     * One corpus source.
     *
     * @param name the source name carried by every sequence (for mixture accounting)
     * @param paths files, directories or globs of shards, relative to the working directory
     * @param weight this source's share of the mixture clock, by bytes of its shards as stored (see
     *     {@link dev.sluice.connectors.corpus.ShardSchedule}); 0 leaves the source unread
     * @param textField the JSON field holding the text
     * @param textMode for .txt shards: {@code file} (one document per file) or {@code block} (per blank-line block)
     */
    public record Source(String name, List<String> paths, Double weight, String textField, String textMode) {
        public Source {
            weight = weight == null ? 1.0 : weight;
            textField = textField == null ? "text" : textField;
            textMode = textMode == null ? "file" : textMode;
            require(name != null && name.matches("[A-Za-z0-9_.-]+"), "sources[].name",
                    "must be letters, digits, '_', '.' or '-'", name);
            require(paths != null && !paths.isEmpty(), "sources[" + name + "].paths", "must list shards", paths);
            require(weight >= 0, "sources[" + name + "].weight", "must be >= 0", weight);
            require(textMode.equals("file") || textMode.equals("block"), "sources[" + name + "].text_mode",
                    "must be file or block", textMode);
            paths = List.copyOf(paths);
        }
    }

    /**
     * The Kafka cluster. {@code properties} pass through to every client (security.protocol, sasl.*, ssl.*).
     */
    public record Kafka(String bootstrapServers, Map<String, String> properties) {
        public Kafka {
            properties = properties == null ? Map.of() : Map.copyOf(properties);
        }

        /** Properties for every client of a job running on a cluster, which has no embedded broker to fall back on. */
        public java.util.Properties client() {
            if (bootstrapServers == null) {
                throw new IllegalArgumentException("no Kafka cluster: give --bootstrap-servers (or "
                        + "kafka.bootstrap_servers in the config)");
            }
            java.util.Properties p = new java.util.Properties();
            p.putAll(properties);
            p.put("bootstrap.servers", bootstrapServers);
            return p;
        }
    }

    public static PipelineConfig load(Path file) {
        return YamlConfig.load(file, PipelineConfig.class);
    }

    /** The {@code data:} block, which a pipeline run on its own requires. */
    @Override
    public DataContract data() {
        require(data != null, "data", "must be set: {dataset, tokenizer, seq_len}", null);
        return data;
    }

    /** Whether the file has a {@code data:} block (a corpus file for a speedrun may leave it out). */
    public boolean hasData() {
        return data != null;
    }

    /** The same corpus and settings with another data block (a --tokenizer override of the pipeline command). */
    public PipelineConfig withData(DataContract data) {
        return new PipelineConfig(data, batchSequences, packing, seed, valFraction, shuffleBuffer, partitions,
                parallelism, epochs, watchIntervalMs, checkpointIntervalMs, maxDocumentBytes, splitBytes, sources, kafka);
    }

    public PipelineConfig withKafka(Kafka kafka) {
        return YamlConfig.with(this, Map.of("kafka", kafka));
    }
}
