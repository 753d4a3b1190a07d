package dev.sluice.pipeline;

import dev.sluice.contract.DataContract;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by split ordinal (one pass over one corpus split): packs each tokenized document into seq_len+1 windows of
 * its train/val split. Keyed state is one partial window per train/val split, so a corpus split packs the same on
 * whichever subtask reads it.
 */
final class Pack extends KeyedProcessFunction<Integer, TokenizedRecord, PackedSequence>
        implements CheckpointedFunction {

    static final String TRAIN = DataContract.TRAIN;
    static final String VAL = DataContract.VAL;

    private final int rowLength;
    private final boolean bosAligned;
    private final int bosId;
    private final String topicPrefix;

    private transient ValueState<long[]> trainState;
    private transient ValueState<long[]> valState;
    private transient Counter droppedTokens;
    private transient CheckpointedCounters accumulators;

    /** {@code topicPrefix} ({@code sluice.<dataset>.<tokenizer>}) scopes the accumulators to this tokenizer. */
    Pack(int seqLen, boolean bosAligned, int bosId, String topicPrefix) {
        this.rowLength = seqLen + 1;
        this.bosAligned = bosAligned;
        this.bosId = bosId;
        this.topicPrefix = topicPrefix;
    }

    @Override
    public void open(OpenContext context) {
        trainState = getRuntimeContext().getState(new ValueStateDescriptor<>("packer.train", long[].class));
        valState = getRuntimeContext().getState(new ValueStateDescriptor<>("packer.val", long[].class));
        droppedTokens = getRuntimeContext().getMetricGroup().addGroup("sluice").counter("droppedTokens");
        accumulators.register(getRuntimeContext(), topicPrefix + ".");
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        accumulators = new CheckpointedCounters(List.of("dropped_tokens"));
        accumulators.initialize(context, "counters");
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        accumulators.snapshot();
    }

    @Override
    public void processElement(TokenizedRecord r, Context ctx, Collector<PackedSequence> out) throws Exception {
        int ordinal = r.shardOrdinal();
        if (r.endOfShard()) {
            finishShard(TRAIN, trainState, r.source(), ordinal, out);
            finishShard(VAL, valState, r.source(), ordinal, out);
            return;
        }
        String split = r.validation() ? VAL : TRAIN;
        ValueState<long[]> state = r.validation() ? valState : trainState;
        Packer packer = Packer.restore(rowLength, bosAligned, state.value());
        long droppedBefore = packer.droppedTokens();
        packer.add(bosId, r.ids(), window ->
                out.collect(new PackedSequence(split, r.source(), ordinal, packer.windows(), window, r.progress())));
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
