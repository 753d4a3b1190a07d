package dev.sluice.pipeline;

/**
 * One packed window of seq_len+1 tokens, or (with {@code tokens == null}) the marker that shard
 * {@code shardOrdinal} has no more sequences for this split.
 *
 * @param split {@code train} or {@code val}
 * @param shardOrdinal the shard's place in the canonical order (epoch-major, then sorted path)
 * @param window the window's index within its shard and split
 */
public record PackedSequence(String split, String source, int shardOrdinal, long window, int[] tokens) {

    public static PackedSequence endOfShard(String split, String source, int shardOrdinal, long windows) {
        return new PackedSequence(split, source, shardOrdinal, windows, null);
    }

    public boolean isEndOfShard() {
        return tokens == null;
    }

    /** Unique within a topic and the same in every run: the shard's ordinal, then the window's index. */
    public long seqId() {
        return ((long) shardOrdinal << 32) | window;
    }
}
