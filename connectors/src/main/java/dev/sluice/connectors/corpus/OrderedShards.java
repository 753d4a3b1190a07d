package dev.sluice.connectors.corpus;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.TreeMap;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.assigners.FileSplitAssigner;
import org.apache.flink.connector.file.src.enumerate.FileEnumerator;

/**
 * Splits that carry their shard's place in the canonical order (the split id is the ordinal), handed to readers
 * in that order. The order lets the downstream sampler emit sequences deterministically with little buffering
 * (readers work on the shards it needs next); the ordinal in the id lets a shard appear once per epoch.
 */
public final class OrderedShards {

    private OrderedShards() {}

    /** Ordinal from a split id; shards found later by watching have ids above 2^30. */
    public static int ordinal(String splitId) {
        return Integer.parseInt(splitId);
    }

    /**
     * The shards listed at submission, each once per ordinal listed for it, whether or not the file is still there:
     * one that vanished is read as unreadable (a rejected record naming it, then its end), so the sampler never
     * waits for it. When watching, also any new shard the patterns match, once it is complete: its size and
     * modification time the same in two listings a watch interval apart (a file still being copied is left for
     * the next listing; one that appears by rename is complete at once but still waits one interval). Otherwise a
     * file that appeared after submission is not read (it would arrive after the run decided it was complete).
     */
    static final class Enumerator implements FileEnumerator, FileEnumerator.Provider, Serializable {

        private final List<String> patterns;
        private final Map<String, List<Integer>> ordinalsByPath;
        private final boolean watching;
        /** New files as last listed: path to size and modification time. */
        private transient Map<Path, List<Long>> lastListing;

        Enumerator(List<String> patterns, Map<String, List<Integer>> ordinalsByPath, boolean watching) {
            this.patterns = List.copyOf(patterns);
            this.ordinalsByPath = Map.copyOf(ordinalsByPath);
            this.watching = watching;
        }

        @Override
        public FileEnumerator create() {
            return this;
        }

        @Override
        public Collection<FileSourceSplit> enumerateSplits(org.apache.flink.core.fs.Path[] ignored, int minSplits)
                throws IOException {
            List<FileSourceSplit> splits = new ArrayList<>();
            for (Map.Entry<String, List<Integer>> e : new TreeMap<>(ordinalsByPath).entrySet()) {
                addSplits(splits, Path.of(e.getKey()), e.getValue());
            }
            if (watching) {
                Map<Path, List<Long>> listing = new HashMap<>();
                for (Path p : CorpusSources.listShards(patterns, false)) {
                    if (!ordinalsByPath.containsKey(p.toString())) {
                        List<Long> state = List.of(Files.size(p), Files.getLastModifiedTime(p).toMillis());
                        listing.put(p, state);
                        if (lastListing != null && state.equals(lastListing.get(p))) {
                            addSplits(splits, p, List.of((1 << 30) | (p.toString().hashCode() & 0x3FFF_FFFF)));
                        }
                    }
                }
                lastListing = listing;
            }
            return splits;
        }

        private static void addSplits(List<FileSourceSplit> splits, Path p, List<Integer> ordinals) throws IOException {
            boolean there = Files.isRegularFile(p);
            long size = there ? Files.size(p) : 0;
            long modified = there ? Files.getLastModifiedTime(p).toMillis() : 0;
            for (int ordinal : ordinals) {
                splits.add(new FileSourceSplit(Integer.toString(ordinal), new org.apache.flink.core.fs.Path(p.toUri()),
                        0, size, modified, size));
            }
        }
    }

    /** Hands out splits lowest ordinal first. */
    static final class InOrderAssigner implements FileSplitAssigner {
        private final PriorityQueue<FileSourceSplit> splits =
                new PriorityQueue<>(Comparator.comparingInt(s -> ordinal(s.splitId())));

        InOrderAssigner(Collection<FileSourceSplit> initial) {
            splits.addAll(initial);
        }

        @Override
        public Optional<FileSourceSplit> getNext(String hostname) {
            return Optional.ofNullable(splits.poll());
        }

        @Override
        public void addSplits(Collection<FileSourceSplit> more) {
            splits.addAll(more);
        }

        @Override
        public Collection<FileSourceSplit> remainingSplits() {
            return new ArrayList<>(splits);
        }
    }
}
