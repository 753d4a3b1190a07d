package dev.sluice.pipeline;

/**
 * A document after tokenization, or (with {@code endOfShard}) the marker that shard {@code shardOrdinal} has no
 * more documents. Rejected records stop at the tokenizer, which counts and logs them.
 *
 * @param shardOrdinal the shard's place in the canonical order (epoch-major, then sorted path)
 * @param ids the document's token ids, without the delimiter the packer adds
 * @param validation true when the document belongs to the validation split (by a stable hash of its text)
 */
public record TokenizedRecord(int shardOrdinal, String source, int[] ids, boolean validation, boolean endOfShard) {

    static TokenizedRecord end(int shardOrdinal, String source) {
        return new TokenizedRecord(shardOrdinal, source, null, false, true);
    }
}
