package dev.sluice.pipeline;

import dev.sluice.contract.TokenizerId;
import dev.sluice.connectors.corpus.CorpusRecord;
import dev.sluice.tokenizer.Tokenizer;
import java.util.List;
import org.apache.flink.api.common.accumulators.ListAccumulator;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tokenizes each document where it is read: chained to its corpus reader, so the tokenizer runs in the reader's
 * task with no exchange of text, and every reader that has a shard keeps one core busy (a keyed exchange before
 * tokenizing sent two readers' shards to one subtask about half the time). Stateless apart from its counters; also
 * decides the split and counts and logs rejected records with shard and line.
 */
final class Tokenize extends ProcessFunction<CorpusRecord, TokenizedRecord> implements CheckpointedFunction {

    private static final Logger LOG = LoggerFactory.getLogger(Tokenize.class);

    private final TokenizerId tokenizerId;
    private final double valFraction;
    private final String topicPrefix;

    private transient Tokenizer tokenizer;
    private transient int[] byteLengths;
    private transient Counter documents;
    private transient Counter tokens;
    private transient Counter textBytes;
    private transient Counter rejected;
    private transient Counter invalidUtf8;
    private transient CheckpointedCounters accumulators;
    private transient ListAccumulator<String> unreadableShards;

    /** {@code topicPrefix} ({@code sluice.<dataset>.<tokenizer>}) scopes the accumulators to this tokenizer. */
    Tokenize(TokenizerId tokenizer, double valFraction, String topicPrefix) {
        this.tokenizerId = tokenizer;
        this.valFraction = valFraction;
        this.topicPrefix = topicPrefix;
    }

    @Override
    public void open(OpenContext context) {
        tokenizer = tokenizerId.load();
        byteLengths = tokenizer.tokenByteLengths();
        MetricGroup m = getRuntimeContext().getMetricGroup().addGroup("sluice");
        documents = m.counter("documents");
        tokens = m.counter("tokens");
        textBytes = m.counter("textBytes");
        rejected = m.counter("rejectedRecords");
        invalidUtf8 = m.counter("invalidUtf8Records");
        m.meter("documentsPerSecond", new MeterView(documents));
        m.meter("tokensPerSecond", new MeterView(tokens));
        m.gauge("bytesPerToken", (Gauge<Double>) () -> tokens.getCount() == 0 ? 0.0
                : (double) textBytes.getCount() / tokens.getCount());
        accumulators.register(getRuntimeContext(), topicPrefix + ".");
        // paths, not checkpointed: a shard may be listed twice after a failover, the summary lists each once
        unreadableShards = new ListAccumulator<>();
        getRuntimeContext().addAccumulator(topicPrefix + ".unreadable_shard_paths", unreadableShards);
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        accumulators = new CheckpointedCounters(List.of("train.documents", "val.documents", "train.doc_tokens",
                "val.doc_tokens", "rejected", "invalid_utf8", "unreadable_shards"));
        accumulators.initialize(context, "counters");
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        accumulators.snapshot();
    }

    @Override
    public void processElement(CorpusRecord r, Context ctx, Collector<TokenizedRecord> out) {
        if (r.endOfShard()) {
            out.collect(TokenizedRecord.end(r.shardOrdinal(), r.source()));
            return;
        }
        if (r.isRejected()) {
            rejected.inc();
            accumulators.add("rejected", 1);
            if (r.isUnreadableShard()) {
                accumulators.add("unreadable_shards", 1);
                unreadableShards.add(r.shard());
                LOG.warn("unreadable shard {}: {}", r.shard(), r.error());
                return;
            }
            if (worthLogging(rejected.getCount())) {
                LOG.warn("rejected record #{} of this task: shard {} line {}: {}", rejected.getCount(), r.shard(),
                        r.line(), r.error());
            }
            return;
        }
        if (r.repairedUtf8()) {
            invalidUtf8.inc();
            accumulators.add("invalid_utf8", 1);
            if (worthLogging(invalidUtf8.getCount())) {
                LOG.warn("invalid UTF-8 replaced by U+FFFD (#{} of this task): shard {} line {}",
                        invalidUtf8.getCount(), r.shard(), r.line());
            }
        }
        int[] ids = tokenizer.encode(r.text());
        long bytes = 0;
        for (int id : ids) {
            bytes += byteLengths[id];
        }
        documents.inc();
        tokens.inc(ids.length);
        textBytes.inc(bytes);
        boolean val = DocumentSplit.isValidation(r.text(), valFraction);
        String split = val ? Pack.VAL : Pack.TRAIN;
        accumulators.add(split + ".documents", 1);
        accumulators.add(split + ".doc_tokens", ids.length);
        out.collect(new TokenizedRecord(r.shardOrdinal(), r.source(), ids, val, false, r.progress()));
    }

    /** The first 20 of a kind, then every 1000th: a shard of binary garbage must not flood the log line by line. */
    private static boolean worthLogging(long count) {
        return count <= 20 || count % 1000 == 0;
    }
}
