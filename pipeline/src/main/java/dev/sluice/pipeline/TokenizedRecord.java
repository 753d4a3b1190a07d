package dev.sluice.pipeline;

/**
 * A document after tokenization, or (with {@code endOfShard}) the marker that split {@code shardOrdinal} has no
 * more documents. Rejected records stop at the tokenizer, which counts and logs them.
 *
 * @param shardOrdinal the split's place in the canonical order ({@link dev.sluice.connectors.corpus.ShardSchedule})
 * @param ids the document's token ids, without the delimiter the packer adds
 * @param validation true when the document belongs to the validation split (by a stable hash of its text)
 * @param progress how far into its split the reader was after this document, 0 to 1
 */
public record TokenizedRecord(int shardOrdinal, String source, int[] ids, boolean validation, boolean endOfShard,
                              double progress) {

    static TokenizedRecord end(int shardOrdinal, String source) {
        return new TokenizedRecord(shardOrdinal, source, null, false, true, 1);
    }
}
