package dev.sluice.connectors.corpus;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
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

    /** Lists the configured shards (each once per listed ordinal) and, when watching, any new shard the patterns match. */
    record Enumerator(List<String> patterns, Map<String, List<Integer>> ordinalsByPath) implements FileEnumerator,
            FileEnumerator.Provider, Serializable {

        @Override
        public FileEnumerator create() {
            return this;
        }

        @Override
        public Collection<FileSourceSplit> enumerateSplits(org.apache.flink.core.fs.Path[] ignored, int minSplits)
                throws IOException {
            List<FileSourceSplit> splits = new ArrayList<>();
            for (Path p : CorpusSources.listShards(patterns, false)) {
                List<Integer> ordinals = ordinalsByPath.get(p.toString());
                if (ordinals == null) {
                    ordinals = List.of((1 << 30) | (p.toString().hashCode() & 0x3FFF_FFFF));
                }
                long size = Files.size(p);
                long modified = Files.getLastModifiedTime(p).toMillis();
                for (int ordinal : ordinals) {
                    splits.add(new FileSourceSplit(Integer.toString(ordinal), new org.apache.flink.core.fs.Path(p.toUri()),
                            0, size, modified, size));
                }
            }
            return splits;
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
