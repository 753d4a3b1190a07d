package dev.sluice.connectors.corpus;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.FileSourceSplitSerializer;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Hands out splits lowest ordinal first, and only while the splits from the lowest one still being read through
 * the next one span at most {@code windowBytes} (2 × parallelism × split_bytes) of stored bytes, or are fewer than
 * {@code parallelism}: readers wait rather than read ahead. That is what bounds the sampler downstream, which holds
 * the sequences that arrive before their turn: they come from those splits. Counting bytes rather than splits lets
 * many small shards be read side by side (a reader that finished a small one need not wait for a big one).
 *
 * <p>A request from a reader means it finished the split it was given. After a restore the splits the readers
 * held come back inside their state, unknown to this enumerator, so until they finish up to that many more splits
 * may be read at once.
 *
 * <p>When watching, the patterns are listed again every interval; a new shard is taken once its size and
 * modification time hold across two listings (a file still being copied waits; one that appears by rename waits
 * one interval), cut into splits as at submission, and given the next ordinals, which the checkpoint keeps with
 * every path already taken, so ordinals never repeat and a shard is never read twice.
 */
final class ScheduleEnumerator implements SplitEnumerator<FileSourceSplit, ScheduleEnumerator.State> {

    /** What a checkpoint keeps: splits not handed out, the next ordinal, and every shard path already scheduled. */
    record State(List<FileSourceSplit> unassigned, int nextOrdinal, Set<String> scheduledPaths) {}

    /** Where new shards come from when watching: each source's patterns. */
    record Watch(Map<String, List<String>> patterns, Duration interval, long splitBytes) implements java.io.Serializable {}

    private final long splitBytes;
    /** Stored bytes of the splits from the lowest one being read on, by ordinal. */
    private final TreeMap<Integer, Long> lengths = new TreeMap<>();

    private final SplitEnumeratorContext<FileSourceSplit> context;
    private final Watch watch;
    private final TreeMap<Integer, FileSourceSplit> unassigned = new TreeMap<>();
    private final Map<Integer, Integer> reading = new HashMap<>();
    private final LinkedHashSet<Integer> waiting = new LinkedHashSet<>();
    private final Set<String> scheduledPaths;
    private int nextOrdinal;
    /** New files as last listed (watch thread only): path to size and modification time. */
    private Map<Path, List<Long>> lastListing = Map.of();

    ScheduleEnumerator(SplitEnumeratorContext<FileSourceSplit> context, State state, Watch watch, long splitBytes) {
        this.context = context;
        this.watch = watch;
        this.splitBytes = splitBytes;
        state.unassigned().forEach(this::addUnassigned);
        this.nextOrdinal = state.nextOrdinal();
        this.scheduledPaths = new HashSet<>(state.scheduledPaths());
    }

    @Override
    public void start() {
        if (watch != null) {
            long ms = watch.interval().toMillis();
            context.callAsync(this::listStableNewShards, this::schedule, ms, ms);
        }
    }

    private void addUnassigned(FileSourceSplit split) {
        int ordinal = ShardSchedule.ordinal(split.splitId());
        unassigned.put(ordinal, split);
        lengths.put(ordinal, split.length());
    }

    @Override
    public void handleSplitRequest(int subtask, String hostname) {
        reading.remove(subtask);
        waiting.add(subtask);
        assign();
    }

    @Override
    public void addSplitsBack(List<FileSourceSplit> splits, int subtask) {
        splits.forEach(this::addUnassigned);
        reading.remove(subtask);
        assign();
    }

    @Override
    public void addReader(int subtask) {
        // a reader asks for its first split itself
    }

    private void assign() {
        int parallelism = Math.max(1, context.currentParallelism());
        long windowBytes = 2L * parallelism * splitBytes;
        for (var it = waiting.iterator(); it.hasNext(); ) {
            int subtask = it.next();
            if (!context.registeredReaders().containsKey(subtask)) {
                it.remove(); // failed since it asked; it asks again when restarted
                continue;
            }
            if (unassigned.isEmpty()) {
                if (watch == null) {
                    context.signalNoMoreSplits(subtask);
                    it.remove();
                    continue;
                }
                return;
            }
            int next = unassigned.firstKey();
            int lowest = reading.values().stream().mapToInt(Integer::intValue).min().orElse(next);
            lengths.headMap(lowest).clear(); // below every split being read: their sequences have passed
            // finished splits between them count too: their sequences may still wait in the sampler for the lowest
            long span = lengths.subMap(lowest, true, next, true).values().stream().mapToLong(Long::longValue).sum();
            if (next >= lowest + parallelism && span > windowBytes) {
                return; // the lowest split must finish first
            }
            context.assignSplit(unassigned.pollFirstEntry().getValue(), subtask);
            reading.put(subtask, next);
            it.remove();
        }
    }

    /** Runs on a worker thread: the new shards that have stopped changing. */
    private List<ShardSchedule.Shard> listStableNewShards() throws IOException {
        Map<Path, List<Long>> listing = new HashMap<>();
        List<ShardSchedule.Shard> stable = new ArrayList<>();
        Set<String> scheduled = scheduledPathsSnapshot();
        for (var source : new TreeMap<>(watch.patterns()).entrySet()) {
            for (Path p : CorpusSources.listShards(source.getValue(), false)) {
                if (scheduled.contains(p.toString())) {
                    continue;
                }
                List<Long> state = List.of(Files.size(p), Files.getLastModifiedTime(p).toMillis());
                listing.put(p, state);
                if (state.equals(lastListing.get(p))) {
                    stable.add(new ShardSchedule.Shard(p, source.getKey()));
                }
            }
        }
        lastListing = listing;
        return stable;
    }

    private synchronized Set<String> scheduledPathsSnapshot() {
        return Set.copyOf(scheduledPaths);
    }

    /** Runs on the coordinator thread: gives the new shards' splits the next ordinals. */
    private void schedule(List<ShardSchedule.Shard> shards, Throwable error) {
        if (error != null) {
            throw new IllegalStateException("listing the watched corpus paths failed", error);
        }
        for (ShardSchedule.Shard shard : shards) {
            synchronized (this) {
                if (!scheduledPaths.add(shard.path().toString())) {
                    continue;
                }
            }
            try {
                long size = Files.size(shard.path());
                long modified = Files.getLastModifiedTime(shard.path()).toMillis();
                for (long[] range : ShardSchedule.ranges(shard.path(), watch.splitBytes())) {
                    var split = new ShardSchedule.Split(nextOrdinal++, shard.source(), shard.path().toString(),
                            range[0], range[1], 0, 0);
                    addUnassigned(split.toFileSplit(size, modified));
                }
            } catch (IOException e) {
                throw new IllegalStateException("reading new shard " + shard.path(), e);
            }
        }
        assign();
    }

    @Override
    public synchronized State snapshotState(long checkpointId) {
        return new State(new ArrayList<>(unassigned.values()), nextOrdinal, Set.copyOf(scheduledPaths));
    }

    @Override
    public void close() {}

    /** The checkpoint's bytes: the splits in Flink's own split format, then the counter and the paths. */
    static final class StateSerializer implements SimpleVersionedSerializer<State> {

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(State state) throws IOException {
            var bytes = new ByteArrayOutputStream();
            try (var out = new DataOutputStream(bytes)) {
                out.writeInt(state.unassigned().size());
                for (FileSourceSplit s : state.unassigned()) {
                    byte[] split = FileSourceSplitSerializer.INSTANCE.serialize(s);
                    out.writeInt(split.length);
                    out.write(split);
                }
                out.writeInt(state.nextOrdinal());
                out.writeInt(state.scheduledPaths().size());
                for (String p : state.scheduledPaths()) {
                    out.writeUTF(p);
                }
            }
            return bytes.toByteArray();
        }

        @Override
        public State deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("corpus enumerator state version " + version + " is not readable by this "
                        + "Sluice (knows 1)");
            }
            var in = new DataInputStream(new ByteArrayInputStream(serialized));
            List<FileSourceSplit> splits = new ArrayList<>();
            for (int n = in.readInt(); n > 0; n--) {
                byte[] split = new byte[in.readInt()];
                in.readFully(split);
                splits.add(FileSourceSplitSerializer.INSTANCE.deserialize(FileSourceSplitSerializer.INSTANCE.getVersion(),
                        split));
            }
            int next = in.readInt();
            Set<String> paths = new HashSet<>();
            for (int n = in.readInt(); n > 0; n--) {
                paths.add(in.readUTF());
            }
            return new State(splits, next, paths);
        }
    }
}
