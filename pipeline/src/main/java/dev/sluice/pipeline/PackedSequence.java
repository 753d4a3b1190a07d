package dev.sluice.pipeline;

/**
 * One packed window of seq_len+1 tokens, or (with {@code tokens == null}) the marker that split
 * {@code shardOrdinal} has no more sequences for this train/val split.
 *
 * @param split {@code train} or {@code val}
 * @param shardOrdinal the corpus split's place in the canonical order
 * @param window the window's index within its corpus split and train/val split
 * @param progress how far into its corpus split the reader was when the document that completed this window was
 *     read, 0 to 1 (1 for the end marker): where the window stands on the sampler's mixture clock
 */
public record PackedSequence(String split, String source, int shardOrdinal, long window, int[] tokens, double progress) {

    public static PackedSequence endOfShard(String split, String source, int shardOrdinal, long windows) {
        return new PackedSequence(split, source, shardOrdinal, windows, null, 1);
    }

    public boolean isEndOfShard() {
        return tokens == null;
    }

    /** Unique within a topic and the same in every run: the split's ordinal, then the window's index. */
    public long seqId() {
        return ((long) shardOrdinal << 32) | window;
    }
}
