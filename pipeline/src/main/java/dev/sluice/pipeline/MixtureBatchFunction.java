package dev.sluice.pipeline;

import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.accumulators.LongMaximum;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * One subtask per Kafka partition: orders that partition's sequences ({@link MixtureSampler}) and groups them
 * into {@link TokenBatch}es of N sequences. The whole sampler and the partial batch are checkpointed, so a
 * restored job continues the same order; a restore that changed what the order depends on is refused
 * ({@link SamplerIdentity}).
 */
final class MixtureBatchFunction extends ProcessFunction<PackedSequence, TokenBatch> implements CheckpointedFunction {

    private final String split;
    private final String topic;
    private final BatchMeta meta;
    private final int batchSequences;
    private final List<String> sources;
    /** For each split ordinal of a bounded run, {start, span} on the mixture clock; empty when watching. */
    private final double[][] clock;
    private final long seed;
    private final int shuffleBuffer;
    private final boolean bounded;
    private final String shardSet;

    private transient MixtureSampler sampler;
    private transient List<PackedSequence> pending;
    private transient ListState<byte[]> checkpointed;
    private transient ListState<byte[]> identities;
    private transient boolean flushed;
    private transient Counter batchesOut;
    private transient Counter sequencesOut;
    private transient Counter tokenBytesOut;
    private transient Map<String, Counter> perSource;
    private transient CheckpointedCounters accumulators;
    private transient LongMaximum peakWaitingBytes;
    private transient LongMaximum peakStateBytes;
    private transient long lastStateBytes;

    private MixtureBatchFunction(Builder b) {
        this.split = java.util.Objects.requireNonNull(b.split, "split");
        this.topic = java.util.Objects.requireNonNull(b.topic, "topic");
        this.meta = java.util.Objects.requireNonNull(b.meta, "meta");
        this.batchSequences = b.batchSequences;
        this.sources = List.copyOf(b.sources);
        this.clock = b.clock.clone();
        this.seed = b.seed;
        this.shuffleBuffer = b.shuffleBuffer;
        this.bounded = b.bounded;
        this.shardSet = java.util.Objects.requireNonNull(b.shardSet, "shardSet");
        if (batchSequences < 1 || shuffleBuffer < 1) {
            throw new IllegalArgumentException("batchSequences and shuffleBuffer must be >= 1");
        }
    }

    static Builder builder() {
        return new Builder();
    }

    /** One topic's sampler: where it writes, what it mixes, and how it shuffles. */
    static final class Builder {
        private String split;
        private String topic;
        private BatchMeta meta;
        private int batchSequences;
        private List<String> sources = List.of();
        private double[][] clock = new double[0][];
        private long seed;
        private int shuffleBuffer;
        private boolean bounded;
        private String shardSet;

        /** {@code train} or {@code val}, the topic written, and the metadata every batch declares. */
        Builder writes(String split, String topic, BatchMeta meta) {
            this.split = split;
            this.topic = topic;
            this.meta = meta;
            return this;
        }

        /** Sequences per Arrow RecordBatch (one Kafka record). */
        Builder batchSequences(int n) {
            this.batchSequences = n;
            return this;
        }

        /** The sources' names, in the order the mixture accounts them. */
        Builder sources(List<String> sources) {
            this.sources = sources;
            return this;
        }

        /** For each split ordinal of a bounded run, {start, span} on the mixture clock; empty when watching. */
        Builder clock(double[][] clock) {
            this.clock = clock;
            return this;
        }

        /** The shuffle's seed and the sequences its buffer holds. */
        Builder shuffle(long seed, int buffer) {
            this.seed = seed;
            this.shuffleBuffer = buffer;
            return this;
        }

        /** Whether the run ends (bounded: flush at end of input). */
        Builder bounded(boolean bounded) {
            this.bounded = bounded;
            return this;
        }

        /** The identity of the shard set, checked at restore ({@link SamplerIdentity}). */
        Builder shardSet(String shardSet) {
            this.shardSet = shardSet;
            return this;
        }

        MixtureBatchFunction build() {
            return new MixtureBatchFunction(this);
        }
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        int partitions = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        Map<Integer, double[]> mine = new HashMap<>();
        for (int ordinal = subtask; ordinal < clock.length; ordinal += partitions) {
            mine.put(ordinal, clock[ordinal]);
        }
        // Each partition's shuffle has its own seed, so partitions are not copies of one random stream.
        sampler = new MixtureSampler(mine, SplitMix64.mix(seed * 31 + subtask), shuffleBuffer, bounded);
        pending = new ArrayList<>();
        // The identity is small union state, so every partition sees every writer's and a restore into other
        // partitions is noticed by all; the sampler itself (possibly large) stays in plain list state, which a
        // restore at the same parallelism hands back to the partition that wrote it.
        identities = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("sampler-identity." + split, byte[].class));
        checkpointed = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("sampler." + split, byte[].class));
        SamplerIdentity identity = identity();
        for (byte[] bytes : identities.get()) {
            SamplerIdentity written = SamplerIdentity.read(new DataInputStream(new ByteArrayInputStream(bytes)),
                    "the " + split + " sampler");
            List<String> changes = written.changesTo(identity);
            if (!changes.isEmpty()) {
                throw new IllegalStateException("cannot restore the " + split + " sampler of " + topic + ": "
                        + String.join("; ", changes) + ". The batches' order and seq_ids depend on these: restore "
                        + "with the checkpoint's values, or write a new dataset");
            }
        }
        accumulators = new CheckpointedCounters(List.of(".sequences", ".batches"));
        accumulators.initialize(context, "counters." + split);
        for (byte[] bytes : checkpointed.get()) {
            var in = new DataInputStream(new ByteArrayInputStream(bytes));
            sampler.readState(in);
            pending.addAll(MixtureSampler.readSequences(in));
            flushed = in.readBoolean();
        }
    }

    private SamplerIdentity identity() {
        return new SamplerIdentity(getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks(),
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), meta.tokenizer(), meta.seqLen(), shardSet);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        var bytes = new ByteArrayOutputStream();
        var out = new DataOutputStream(new java.io.BufferedOutputStream(bytes, 1 << 16));
        sampler.writeState(out);
        MixtureSampler.writeSequences(out, pending);
        out.writeBoolean(flushed);
        out.flush();
        checkpointed.update(List.of(bytes.toByteArray()));
        lastStateBytes = bytes.size();
        peakStateBytes.add(lastStateBytes);
        var id = new ByteArrayOutputStream();
        try (var idOut = new DataOutputStream(id)) {
            identity().write(idOut);
        }
        identities.update(List.of(id.toByteArray()));
        accumulators.snapshot();
    }

    @Override
    public void open(OpenContext context) {
        MetricGroup m = getRuntimeContext().getMetricGroup().addGroup("sluice");
        batchesOut = m.counter("batchesOut");
        sequencesOut = m.counter("sequencesOut");
        tokenBytesOut = m.counter("tokenBytesOut");
        perSource = new HashMap<>();
        for (String s : sources) {
            perSource.put(s, m.addGroup("source", s).counter("sequences"));
        }
        accumulators.register(getRuntimeContext(), topic);
        m.gauge("samplerWaitingSequences", (Gauge<Integer>) () -> sampler.waitingSequences());
        m.gauge("samplerStateBytes", (Gauge<Long>) () -> lastStateBytes);
        // peaks over the run (per attempt: they restart from 0 after a failover), for the summary
        peakWaitingBytes = new LongMaximum();
        peakStateBytes = new LongMaximum();
        getRuntimeContext().addAccumulator(topic + ".sampler_peak_waiting_bytes", peakWaitingBytes);
        getRuntimeContext().addAccumulator(topic + ".sampler_peak_state_bytes", peakStateBytes);
    }

    @Override
    public void processElement(PackedSequence s, Context ctx, Collector<TokenBatch> out) {
        sampler.add(s, seq -> take(seq, out));
        peakWaitingBytes.add(sampler.waitingTokens() * Integer.BYTES);
        if (bounded && !flushed && sampler.exhausted()) {
            sampler.flush(seq -> take(seq, out));
            emit(out);
            flushed = true;
        }
    }

    private void take(PackedSequence s, Collector<TokenBatch> out) {
        pending.add(s);
        perSource.get(s.source()).inc();
        if (pending.size() == batchSequences) {
            emit(out);
        }
    }

    private void emit(Collector<TokenBatch> out) {
        if (pending.isEmpty()) {
            return;
        }
        int n = pending.size();
        int[] tokens = new int[n * meta.rowLength()];
        long[] seqIds = new long[n];
        String[] srcs = new String[n];
        for (int i = 0; i < n; i++) {
            PackedSequence s = pending.get(i);
            System.arraycopy(s.tokens(), 0, tokens, i * meta.rowLength(), meta.rowLength());
            seqIds[i] = s.seqId();
            srcs[i] = s.source();
        }
        pending.clear();
        out.collect(new TokenBatch(meta, tokens, seqIds, srcs));
        batchesOut.inc();
        sequencesOut.inc(n);
        tokenBytesOut.inc((long) tokens.length * Integer.BYTES);
        accumulators.add(".sequences", n);
        accumulators.add(".batches", 1);
    }
}
