package dev.sluice.pipeline;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Orders the packed sequences of one output partition: sources are interleaved by a seeded weighted draw, each
 * source yields its shards in canonical order (and each shard its windows in order), and the result passes a
 * seeded shuffle buffer.
 *
 * <p>Why the output is the same in every run although shards are read in parallel and arrive interleaved at
 * random: a draw picks a source once and that pick stands until the source's next sequence is here; the sampler
 * then waits rather than decide differently. Every decision depends on the content, never on arrival timing.
 * Sequences that arrive ahead of their turn wait in a buffer (bounded in practice by the shards being read
 * concurrently). In watch mode (unbounded) new shards join their source's queue as they appear and a draw only
 * considers sources with data at hand, so the order is then arrival-dependent; each sequence is still emitted once.
 */
final class MixtureSampler {

    private final List<String> sources;
    private final double[] weights;
    private final boolean waitForTurn;
    private final int shuffleCapacity;

    private final List<ArrayDeque<Integer>> queues = new ArrayList<>();
    private final Map<Integer, ArrayDeque<PackedSequence>> arrived = new HashMap<>();
    private final Set<Integer> finishedShards = new HashSet<>();
    private final ArrayList<PackedSequence> shuffle = new ArrayList<>();
    private SplitMix64 rng;
    private int chosen = -1;
    private long droppedByWeight;

    /**
     * @param shardQueues per source, the shard ordinals this partition owns, in canonical order
     * @param waitForTurn true in bounded mode (deterministic order); false when watching for new shards
     */
    MixtureSampler(List<String> sources, double[] weights, List<List<Integer>> shardQueues, long seed,
                   int shuffleCapacity, boolean waitForTurn) {
        this.sources = List.copyOf(sources);
        this.weights = weights.clone();
        this.waitForTurn = waitForTurn;
        this.shuffleCapacity = shuffleCapacity;
        this.rng = new SplitMix64(seed);
        for (List<Integer> q : shardQueues) {
            queues.add(new ArrayDeque<>(q));
        }
    }

    /** Takes one arrival (a window or an end-of-shard marker) and emits every sequence whose turn has come. */
    void add(PackedSequence s, Consumer<PackedSequence> out) {
        int source = sources.indexOf(s.source());
        if (source < 0) {
            throw new IllegalStateException("sequence from unknown source '" + s.source() + "'; known: " + sources);
        }
        if (weights[source] == 0) {
            droppedByWeight += s.isEndOfShard() ? 0 : 1;
            return;
        }
        int shard = s.shardOrdinal();
        if (!arrived.containsKey(shard) && !queues.get(source).contains(shard)) {
            queues.get(source).addLast(shard); // a shard found by watching the directories
        }
        ArrayDeque<PackedSequence> buffer = arrived.computeIfAbsent(shard, k -> new ArrayDeque<>());
        if (s.isEndOfShard()) {
            finishedShards.add(shard);
        } else {
            buffer.addLast(s);
        }
        drain(out);
    }

    private void drain(Consumer<PackedSequence> out) {
        while (true) {
            if (chosen < 0) {
                chosen = draw();
                if (chosen < 0) {
                    return;
                }
            }
            ArrayDeque<Integer> queue = queues.get(chosen);
            while (!queue.isEmpty() && finishedShards.contains(queue.peekFirst())
                    && arrived.getOrDefault(queue.peekFirst(), new ArrayDeque<>()).isEmpty()) {
                int done = queue.removeFirst();
                finishedShards.remove(done);
                arrived.remove(done);
            }
            if (queue.isEmpty()) {
                chosen = -1; // this source is exhausted; draw again among the rest
                continue;
            }
            ArrayDeque<PackedSequence> buffer = arrived.get(queue.peekFirst());
            if (buffer == null || buffer.isEmpty()) {
                return; // wait for the head shard's next sequence
            }
            chosen = -1;
            shuffleIn(buffer.removeFirst(), out);
        }
    }

    /** A source drawn by weight among those still able to yield, or -1 when none is. */
    private int draw() {
        double total = 0;
        double[] w = new double[weights.length];
        for (int i = 0; i < w.length; i++) {
            if (weights[i] > 0 && !queues.get(i).isEmpty() && (waitForTurn || headHasData(i))) {
                w[i] = weights[i];
                total += w[i];
            }
        }
        if (total == 0) {
            return -1;
        }
        double r = rng.nextDouble() * total;
        int last = -1;
        for (int i = 0; i < w.length; i++) {
            if (w[i] > 0) {
                last = i;
                if (r < w[i]) {
                    return i;
                }
                r -= w[i];
            }
        }
        return last;
    }

    private boolean headHasData(int source) {
        for (int shard : queues.get(source)) {
            ArrayDeque<PackedSequence> b = arrived.get(shard);
            if (b != null && !b.isEmpty()) {
                return true;
            }
            if (!finishedShards.contains(shard)) {
                return false;
            }
        }
        return false;
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

    /** True once every weighted source has yielded all its shards (bounded mode). */
    boolean exhausted() {
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] > 0 && !queues.get(i).isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /** Empties the shuffle buffer (at the end of a bounded run). */
    void flush(Consumer<PackedSequence> out) {
        while (!shuffle.isEmpty()) {
            out.accept(takeRandom());
        }
    }

    long droppedByWeight() {
        return droppedByWeight;
    }

    // ---- checkpointed state: everything above that changes ----

    void writeState(DataOutputStream out) throws IOException {
        out.writeLong(rng.state());
        out.writeInt(chosen);
        out.writeLong(droppedByWeight);
        out.writeInt(queues.size());
        for (ArrayDeque<Integer> q : queues) {
            out.writeInt(q.size());
            for (int shard : q) {
                out.writeInt(shard);
            }
        }
        out.writeInt(finishedShards.size());
        for (int shard : finishedShards) {
            out.writeInt(shard);
        }
        out.writeInt(arrived.size());
        for (var e : arrived.entrySet()) {
            out.writeInt(e.getKey());
            writeSequences(out, e.getValue());
        }
        writeSequences(out, shuffle);
    }

    void readState(DataInputStream in) throws IOException {
        rng = new SplitMix64(in.readLong());
        chosen = in.readInt();
        droppedByWeight = in.readLong();
        int nq = in.readInt();
        queues.clear();
        for (int i = 0; i < nq; i++) {
            ArrayDeque<Integer> q = new ArrayDeque<>();
            for (int n = in.readInt(); n > 0; n--) {
                q.addLast(in.readInt());
            }
            queues.add(q);
        }
        finishedShards.clear();
        for (int n = in.readInt(); n > 0; n--) {
            finishedShards.add(in.readInt());
        }
        arrived.clear();
        for (int n = in.readInt(); n > 0; n--) {
            int shard = in.readInt();
            arrived.put(shard, new ArrayDeque<>(readSequences(in)));
        }
        shuffle.clear();
        shuffle.addAll(readSequences(in));
    }

    static void writeSequences(DataOutputStream out, java.util.Collection<PackedSequence> seqs) throws IOException {
        out.writeInt(seqs.size());
        for (PackedSequence s : seqs) {
            out.writeUTF(s.split());
            out.writeUTF(s.source());
            out.writeInt(s.shardOrdinal());
            out.writeLong(s.window());
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
            int[] tokens = new int[in.readInt()];
            byte[] bytes = new byte[tokens.length * Integer.BYTES];
            in.readFully(bytes);
            ByteBuffer.wrap(bytes).asIntBuffer().get(tokens);
            seqs.add(new PackedSequence(split, source, shard, window, tokens));
        }
        return seqs;
    }
}
