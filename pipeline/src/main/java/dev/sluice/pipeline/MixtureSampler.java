package dev.sluice.pipeline;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Orders the packed sequences of one output partition: merged by where they stand on the mixture clock (see
 * {@link dev.sluice.connectors.corpus.ShardSchedule}: sources interleaved by weight, byte for byte), then through a
 * seeded shuffle buffer.
 *
 * <p>Why the output is the same in every run although splits are read in parallel and arrive interleaved at
 * random: a sequence's place on the clock comes from its split and its reader's progress through the file, never
 * from arrival time, and a sequence is released only once no unfinished split of this partition can still send an
 * earlier one (each split's sequences arrive in clock order, so that is the least of the unfinished splits' last
 * positions). Ties go by split ordinal, then window.
 *
 * <p>What it holds: the sequences that arrived before the slowest unfinished split reached them. The reader
 * enumerator hands out a split only while the splits from the lowest one being read through it span at most
 * 2 × parallelism × split_bytes of stored bytes (or are fewer than parallelism), so these come from that span: the
 * bound is about that much text as 4-byte ids, plus the shuffle buffer, whatever the shards' sizes.
 *
 * <p>In watch mode (unbounded) nothing is waited for: sequences pass to the shuffle buffer as they arrive, so the
 * order then depends on arrival; each sequence is still emitted once.
 */
final class MixtureSampler {

    /** A sequence waiting for its turn, with its place on the clock. */
    private record Waiting(double at, PackedSequence sequence) {}

    private static final Comparator<Waiting> CLOCK_ORDER = Comparator.comparingDouble(Waiting::at)
            .thenComparingInt(w -> w.sequence().shardOrdinal()).thenComparingLong(w -> w.sequence().window());

    /** Where a split of this partition is on the clock: its last sequence's place, or its start. */
    private record Position(double at, int ordinal) {}

    private static final Comparator<Position> POSITION_ORDER =
            Comparator.comparingDouble(Position::at).thenComparingInt(Position::ordinal);

    private final Map<Integer, double[]> clock;
    private final boolean ordered;
    private final int shuffleCapacity;

    private final Map<Integer, Position> unfinished = new HashMap<>();
    private final TreeSet<Position> positions = new TreeSet<>(POSITION_ORDER);
    private final PriorityQueue<Waiting> waiting = new PriorityQueue<>(CLOCK_ORDER);
    private final ArrayList<PackedSequence> shuffle = new ArrayList<>();
    private SplitMix64 rng;
    private long waitingTokens;

    /**
     * @param clock for each corpus split of this partition (by ordinal): {start, span} on the mixture clock
     * @param ordered true in bounded mode (deterministic order); false when watching for new shards
     */
    MixtureSampler(Map<Integer, double[]> clock, long seed, int shuffleCapacity, boolean ordered) {
        this.clock = Map.copyOf(clock);
        this.ordered = ordered;
        this.shuffleCapacity = shuffleCapacity;
        this.rng = new SplitMix64(seed);
        if (ordered) {
            clock.forEach((ordinal, startSpan) -> move(ordinal, startSpan[0]));
        }
    }

    /** Takes one arrival (a window or an end-of-split marker) and emits every sequence whose turn has come. */
    void add(PackedSequence s, Consumer<PackedSequence> out) {
        if (!ordered) {
            if (!s.isEndOfShard()) {
                shuffleIn(s, out);
            }
            return;
        }
        double[] startSpan = clock.get(s.shardOrdinal());
        if (startSpan == null) {
            throw new IllegalStateException("sequence of split " + s.shardOrdinal() + " reached the sampler of a "
                    + "partition that does not own it (partition = ordinal mod partitions)");
        }
        if (s.isEndOfShard()) {
            positions.remove(unfinished.remove(s.shardOrdinal()));
        } else {
            double at = startSpan[0] + s.progress() * startSpan[1];
            waiting.add(new Waiting(at, s));
            waitingTokens += s.tokens().length;
            if (unfinished.containsKey(s.shardOrdinal())) {
                move(s.shardOrdinal(), at);
            }
        }
        Position least = positions.isEmpty() ? null : positions.first();
        while (!waiting.isEmpty() && (least == null || waiting.peek().at() < least.at())) {
            PackedSequence next = waiting.poll().sequence();
            waitingTokens -= next.tokens().length;
            shuffleIn(next, out);
        }
    }

    private void move(int ordinal, double at) {
        Position was = unfinished.put(ordinal, new Position(at, ordinal));
        if (was != null) {
            positions.remove(was);
        }
        positions.add(unfinished.get(ordinal));
    }

    private void shuffleIn(PackedSequence s, Consumer<PackedSequence> out) {
        shuffle.add(s);
        if (shuffle.size() > shuffleCapacity) {
            out.accept(takeRandom());
        }
    }

    private PackedSequence takeRandom() {
        int i = rng.nextInt(shuffle.size());
        PackedSequence picked = shuffle.get(i);
        shuffle.set(i, shuffle.get(shuffle.size() - 1));
        shuffle.remove(shuffle.size() - 1);
        return picked;
    }

    /** True once every split of this partition has ended and its sequences have passed (bounded mode). */
    boolean exhausted() {
        return ordered && unfinished.isEmpty() && waiting.isEmpty();
    }

    /** Empties the shuffle buffer (at the end of a bounded run). */
    void flush(Consumer<PackedSequence> out) {
        while (!shuffle.isEmpty()) {
            out.accept(takeRandom());
        }
    }

    /** Tokens held waiting for their turn (not counting the shuffle buffer). */
    long waitingTokens() {
        return waitingTokens;
    }

    int waitingSequences() {
        return waiting.size();
    }

    // ---- checkpointed state: everything above that changes ----

    void writeState(DataOutputStream out) throws IOException {
        out.writeLong(rng.state());
        out.writeInt(unfinished.size());
        for (Position p : unfinished.values()) {
            out.writeInt(p.ordinal());
            out.writeDouble(p.at());
        }
        List<PackedSequence> queued = new ArrayList<>();
        waiting.forEach(w -> queued.add(w.sequence()));
        writeSequences(out, queued);
        writeSequences(out, shuffle);
    }

    void readState(DataInputStream in) throws IOException {
        rng = new SplitMix64(in.readLong());
        unfinished.clear();
        positions.clear();
        for (int n = in.readInt(); n > 0; n--) {
            int ordinal = in.readInt();
            move(ordinal, in.readDouble());
        }
        waiting.clear();
        waitingTokens = 0;
        for (PackedSequence s : readSequences(in)) {
            double[] startSpan = clock.get(s.shardOrdinal());
            waiting.add(new Waiting(startSpan[0] + s.progress() * startSpan[1], s));
            waitingTokens += s.tokens().length;
        }
        shuffle.clear();
        shuffle.addAll(readSequences(in));
    }

    static void writeSequences(DataOutputStream out, Collection<PackedSequence> seqs) throws IOException {
        out.writeInt(seqs.size());
        for (PackedSequence s : seqs) {
            out.writeUTF(s.split());
            out.writeUTF(s.source());
            out.writeInt(s.shardOrdinal());
            out.writeLong(s.window());
            out.writeDouble(s.progress());
            out.writeInt(s.tokens().length);
            // in bulk: checkpoints copy the whole shuffle buffer, and int by int that was most of this task's CPU
            ByteBuffer bytes = ByteBuffer.allocate(s.tokens().length * Integer.BYTES);
            bytes.asIntBuffer().put(s.tokens());
            out.write(bytes.array());
        }
    }

    static List<PackedSequence> readSequences(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<PackedSequence> seqs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String split = in.readUTF();
            String source = in.readUTF();
            int shard = in.readInt();
            long window = in.readLong();
            double progress = in.readDouble();
            int[] tokens = new int[in.readInt()];
            byte[] bytes = new byte[tokens.length * Integer.BYTES];
            in.readFully(bytes);
            ByteBuffer.wrap(bytes).asIntBuffer().get(tokens);
            seqs.add(new PackedSequence(split, source, shard, window, tokens, progress));
        }
        return seqs;
    }
}
