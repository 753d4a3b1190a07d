package dev.sluice.connectors.corpus;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.connector.file.src.FileSourceSplit;

/**
 * The canonical read order of a bounded run: every shard cut into bounded splits, every source's splits laid end
 * to end on one "mixture clock", and all of them sorted by where they start on it. A split's place in that order
 * is its ordinal: it keys the packer, prefixes the seq_ids and tells the sampler what to wait for.
 *
 * <p>The clock: a source of weight w advances it by 1/w per byte of its shards as stored, so sources with equal
 * weights are interleaved byte for byte, and a source of weight 2 contributes twice the bytes per tick. A record
 * read {@code progress} of the way through its split stands at {@code start + progress * span}; the sampler emits
 * sequences in that order. Splits: uncompressed JSON lines and Parquet in byte ranges of {@code split_bytes}
 * (a line or row group belongs to the range holding its first byte or its midpoint); a compressed or plain-text
 * shard is one split, since it cannot be entered in the middle.
 */
public final class ShardSchedule implements Serializable {

    /** A shard of one source. */
    public record Shard(Path path, String source) {}

    /**
     * One split: a byte range of a shard read in one epoch.
     *
     * @param start where the split starts on the mixture clock
     * @param span how far the clock moves while it is read (its bytes over its source's weight)
     */
    public record Split(int ordinal, String source, String path, long offset, long length, double start, double span)
            implements Serializable {

        FileSourceSplit toFileSplit(long fileSize, long modified) {
            return new FileSourceSplit(id(ordinal, source), new org.apache.flink.core.fs.Path(Path.of(path).toUri()),
                    offset, length, modified, fileSize);
        }
    }

    private final List<Split> splits;

    private ShardSchedule(List<Split> splits) {
        this.splits = List.copyOf(splits);
    }

    /** The split id Flink sees: the ordinal, then the source (whose options the reader uses). */
    public static String id(int ordinal, String source) {
        return ordinal + "@" + source;
    }

    public static int ordinal(String splitId) {
        return Integer.parseInt(splitId.substring(0, splitId.indexOf('@')));
    }

    static String source(String splitId) {
        return splitId.substring(splitId.indexOf('@') + 1);
    }

    /**
     * Plans a bounded run over {@code shards} (sorted by path within each source). Sources of weight 0 are not
     * read. A shard that is gone is one split of length 0 (read as unreadable).
     */
    public static ShardSchedule plan(List<Shard> shards, Map<String, Double> weights, int epochs, long splitBytes) {
        double total = weights.values().stream().mapToDouble(Double::doubleValue).sum();
        Map<String, Double> clock = new LinkedHashMap<>();
        List<Split> splits = new ArrayList<>();
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (Shard shard : shards) {
                double weight = weights.getOrDefault(shard.source(), 0.0) / total;
                if (weight == 0) {
                    continue;
                }
                for (long[] range : ranges(shard.path(), splitBytes)) {
                    double start = clock.getOrDefault(shard.source(), 0.0);
                    double span = range[1] / weight;
                    clock.put(shard.source(), start + span);
                    splits.add(new Split(-1, shard.source(), shard.path().toString(), range[0], range[1], start, span));
                }
            }
        }
        // Stable sort: ties (equal starts) keep source-then-path order, so the plan is the same in every run.
        List<Split> ordered = new ArrayList<>(splits);
        ordered.sort(Comparator.comparingDouble(Split::start));
        List<Split> numbered = new ArrayList<>();
        for (Split s : ordered) {
            numbered.add(new Split(numbered.size(), s.source(), s.path(), s.offset(), s.length(), s.start(), s.span()));
        }
        return new ShardSchedule(numbered);
    }

    /** The byte ranges {offset, length} a shard is read in. */
    static List<long[]> ranges(Path path, long splitBytes) {
        long size;
        try {
            size = Files.isRegularFile(path) ? Files.size(path) : 0;
        } catch (IOException e) {
            throw new UncheckedIOException("reading the size of shard " + path, e);
        }
        String name = path.getFileName().toString();
        boolean splittable = !Compression.isCompressed(name)
                && (ShardFormat.of(name) == ShardFormat.JSONL || ShardFormat.of(name) == ShardFormat.PARQUET);
        List<long[]> ranges = new ArrayList<>();
        if (!splittable || size <= splitBytes) {
            ranges.add(new long[] {0, size});
            return ranges;
        }
        for (long offset = 0; offset < size; offset += splitBytes) {
            ranges.add(new long[] {offset, Math.min(splitBytes, size - offset)});
        }
        return ranges;
    }

    public List<Split> splits() {
        return splits;
    }

    /** A short name for this plan (split count and a hash of every split), to tell a restore that it changed. */
    public String fingerprint() {
        StringBuilder all = new StringBuilder();
        for (Split s : splits) {
            all.append(s.source()).append('=').append(s.path()).append('@').append(s.offset()).append('+')
                    .append(s.length()).append(' ').append(s.start()).append('/').append(s.span()).append('\n');
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(all.toString().getBytes(StandardCharsets.UTF_8));
            return splits.size() + " splits, sha256 " + HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
