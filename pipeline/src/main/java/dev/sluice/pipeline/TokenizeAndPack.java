package dev.sluice.pipeline;

import dev.sluice.connectors.TokenizerRef;
import dev.sluice.connectors.corpus.CorpusRecord;
import dev.sluice.tokenizer.Tokenizer;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keyed by shard ordinal (one pass over one shard): counts and logs rejected records, sends each document to train or validation by a
 * stable hash of its text, tokenizes it and packs it. Keyed state is one partial window per split.
 */
final class TokenizeAndPack extends KeyedProcessFunction<Integer, CorpusRecord, PackedSequence>
        implements CheckpointedFunction {

    private static final Logger LOG = LoggerFactory.getLogger(TokenizeAndPack.class);
    static final String TRAIN = "train";
    static final String VAL = "val";

    private final TokenizerRef tokenizerRef;
    private final int rowLength;
    private final boolean bosAligned;
    private final double valFraction;
    private final String topicPrefix;

    private transient Tokenizer tokenizer;
    private transient int[] byteLengths;
    private transient ValueState<long[]> trainState;
    private transient ValueState<long[]> valState;
    private transient Counter documents;
    private transient Counter tokens;
    private transient Counter textBytes;
    private transient Counter rejected;
    private transient Counter invalidUtf8;
    private transient Counter droppedTokens;
    private transient CheckpointedCounters accumulators;

    /** {@code topicPrefix} ({@code sluice.<dataset>.<tokenizer>}) scopes the accumulators to this tokenizer. */
    TokenizeAndPack(TokenizerRef tokenizer, int seqLen, boolean bosAligned, double valFraction, String topicPrefix) {
        this.topicPrefix = topicPrefix;
        this.tokenizerRef = tokenizer;
        this.rowLength = seqLen + 1;
        this.bosAligned = bosAligned;
        this.valFraction = valFraction;
    }

    @Override
    public void open(OpenContext context) {
        tokenizer = tokenizerRef.get();
        byteLengths = tokenizer.tokenByteLengths();
        trainState = getRuntimeContext().getState(new ValueStateDescriptor<>("packer.train", long[].class));
        valState = getRuntimeContext().getState(new ValueStateDescriptor<>("packer.val", long[].class));
        MetricGroup m = getRuntimeContext().getMetricGroup().addGroup("sluice");
        documents = m.counter("documents");
        tokens = m.counter("tokens");
        textBytes = m.counter("textBytes");
        rejected = m.counter("rejectedRecords");
        invalidUtf8 = m.counter("invalidUtf8Records");
        droppedTokens = m.counter("droppedTokens");
        m.meter("documentsPerSecond", new MeterView(documents));
        m.meter("tokensPerSecond", new MeterView(tokens));
        m.gauge("bytesPerToken", (Gauge<Double>) () -> tokens.getCount() == 0 ? 0.0
                : (double) textBytes.getCount() / tokens.getCount());
        accumulators.register(getRuntimeContext(), topicPrefix + ".");
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        accumulators = new CheckpointedCounters(List.of("train.documents", "val.documents", "train.doc_tokens",
                "val.doc_tokens", "rejected", "invalid_utf8", "dropped_tokens"));
        accumulators.initialize(context, "counters");
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        accumulators.snapshot();
    }

    @Override
    public void processElement(CorpusRecord r, Context ctx, Collector<PackedSequence> out) throws Exception {
        int ordinal = r.shardOrdinal();
        if (r.endOfShard()) {
            finishShard(TRAIN, trainState, r.source(), ordinal, out);
            finishShard(VAL, valState, r.source(), ordinal, out);
            return;
        }
        if (r.isRejected()) {
            rejected.inc();
            accumulators.add("rejected", 1);
            LOG.warn("rejected record: shard {} line {}: {}", r.shard(), r.line(), r.error());
            return;
        }
        if (r.repairedUtf8()) {
            invalidUtf8.inc();
            accumulators.add("invalid_utf8", 1);
            LOG.warn("invalid UTF-8 replaced by U+FFFD: shard {} line {}", r.shard(), r.line());
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
        String split = val ? VAL : TRAIN;
        accumulators.add(split + ".documents", 1);
        accumulators.add(split + ".doc_tokens", ids.length);
        ValueState<long[]> state = val ? valState : trainState;
        Packer packer = Packer.restore(rowLength, bosAligned, state.value());
        long droppedBefore = packer.droppedTokens();
        packer.add(tokenizer.bosId(), ids, window ->
                out.collect(new PackedSequence(split, r.source(), ordinal, packer.windows(), window)));
        record(packer.droppedTokens() - droppedBefore);
        state.update(packer.snapshot());
    }

    private void finishShard(String split, ValueState<long[]> state, String source, int ordinal,
                             Collector<PackedSequence> out) throws Exception {
        Packer packer = Packer.restore(rowLength, bosAligned, state.value());
        long before = packer.droppedTokens();
        packer.finish();
        record(packer.droppedTokens() - before);
        out.collect(PackedSequence.endOfShard(split, source, ordinal, packer.windows()));
        state.clear();
    }

    private void record(long dropped) {
        if (dropped > 0) {
            droppedTokens.inc(dropped);
            accumulators.add("dropped_tokens", dropped);
        }
    }
}
