package dev.sluice.pipeline;

import dev.sluice.connectors.DataContract;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Packs each tokenized document into seq_len+1 windows of its train/val split, chained to the reader that read it:
 * a corpus split is read by one reader at a time, so its partial windows live where its documents arrive, and no
 * document crosses threads (a keyed exchange by split cost ~5 % of the job's throughput, measured).
 *
 * <p>A split's packing state moves with the split on a restore, to whichever reader (at whatever parallelism) gets
 * it, so it is union operator state: every subtask gets every split's state back and uses the ones whose documents
 * it receives. The copies that other subtasks keep go stale as the split moves on; each state carries how many
 * records of its split it has taken, and a restore keeps the highest. A split that ends after a restore leaves a
 * tombstone until the next snapshot, so its stale copies elsewhere are dropped, not revived. The state is what
 * was open at the last restore plus what is open now: a few partial windows per reader, never the corpus.
 */
final class Pack extends ProcessFunction<TokenizedRecord, PackedSequence> implements CheckpointedFunction {

    static final String TRAIN = DataContract.TRAIN;
    static final String VAL = DataContract.VAL;

    /**
     * One corpus split's packing state as checkpointed: records taken, then the train and val packers'
     * snapshots; {@code train == null} marks a split that has ended.
     */
    record SplitState(int ordinal, long records, long[] train, long[] val) {
        boolean ended() {
            return train == null;
        }
    }

    /** A split being packed here: its two packers and how many of its records they have taken. */
    private static final class Open {
        final Packer train;
        final Packer val;
        long records;

        Open(Packer train, Packer val, long records) {
            this.train = train;
            this.val = val;
            this.records = records;
        }
    }

    private final int rowLength;
    private final boolean bosAligned;
    private final int bosId;
    private final String topicPrefix;

    private transient Map<Integer, Open> open;
    /** Restored and not (yet) seen here: kept and snapshotted as they came, in case their split comes here. */
    private transient Map<Integer, SplitState> restored;
    /** Splits restored from the last checkpoint that have ended here since. */
    private transient Set<Integer> endedSinceRestore;
    private transient Set<Integer> restoredOrdinals;
    private transient ListState<SplitState> state;
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
        droppedTokens = getRuntimeContext().getMetricGroup().addGroup("sluice").counter("droppedTokens");
        accumulators.register(getRuntimeContext(), topicPrefix + ".");
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        accumulators = new CheckpointedCounters(List.of("dropped_tokens"));
        accumulators.initialize(context, "counters");
        state = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("packers", SplitState.class));
        open = new HashMap<>();
        endedSinceRestore = new HashSet<>();
        restored = latest(state.get());
        restoredOrdinals = new HashSet<>(restored.keySet());
    }

    /** Per split, the copy that has taken the most records; none for a split with a tombstone. */
    static Map<Integer, SplitState> latest(Iterable<SplitState> states) {
        Map<Integer, SplitState> latest = new HashMap<>();
        Set<Integer> ended = new HashSet<>();
        for (SplitState s : states) {
            if (s.ended()) {
                ended.add(s.ordinal());
            } else {
                latest.merge(s.ordinal(), s, (a, b) -> a.records() >= b.records() ? a : b);
            }
        }
        latest.keySet().removeAll(ended);
        return latest;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        accumulators.snapshot();
        List<SplitState> all = new ArrayList<>(restored.values());
        open.forEach((ordinal, o) -> all.add(new SplitState(ordinal, o.records, o.train.snapshot(), o.val.snapshot())));
        endedSinceRestore.forEach(ordinal -> all.add(new SplitState(ordinal, Long.MAX_VALUE, null, null)));
        state.update(all);
    }

    @Override
    public void processElement(TokenizedRecord r, Context ctx, Collector<PackedSequence> out) {
        int ordinal = r.shardOrdinal();
        Open split = open.computeIfAbsent(ordinal, this::resume);
        split.records++;
        if (r.endOfShard()) {
            finish(split.train, TRAIN, r.source(), ordinal, out);
            finish(split.val, VAL, r.source(), ordinal, out);
            open.remove(ordinal);
            if (restoredOrdinals.contains(ordinal)) {
                endedSinceRestore.add(ordinal);
            }
            return;
        }
        String name = r.validation() ? VAL : TRAIN;
        Packer packer = r.validation() ? split.val : split.train;
        long droppedBefore = packer.droppedTokens();
        packer.add(bosId, r.ids(), window ->
                out.collect(new PackedSequence(name, r.source(), ordinal, packer.windows(), window, r.progress())));
        record(packer.droppedTokens() - droppedBefore);
    }

    /** The split's restored state if it had one, else a fresh start. */
    private Open resume(int ordinal) {
        SplitState s = restored.remove(ordinal);
        return s == null
                ? new Open(new Packer(rowLength, bosAligned), new Packer(rowLength, bosAligned), 0)
                : new Open(Packer.restore(rowLength, bosAligned, s.train()), Packer.restore(rowLength, bosAligned,
                        s.val()), s.records());
    }

    private void finish(Packer packer, String split, String source, int ordinal, Collector<PackedSequence> out) {
        long before = packer.droppedTokens();
        packer.finish();
        record(packer.droppedTokens() - before);
        out.collect(PackedSequence.endOfShard(split, source, ordinal, packer.windows()));
    }

    private void record(long dropped) {
        if (dropped > 0) {
            droppedTokens.inc(dropped);
            accumulators.add("dropped_tokens", dropped);
        }
    }

    /** Splits with packing state here (open, or restored and not yet resumed): for tests. */
    Set<Integer> splitsHeld() {
        Set<Integer> held = new HashSet<>(open.keySet());
        held.addAll(restored.keySet());
        return held;
    }
}
