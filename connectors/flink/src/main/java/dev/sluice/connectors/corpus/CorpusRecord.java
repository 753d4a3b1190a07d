package dev.sluice.connectors.corpus;

/**
 * One record read from a split of a corpus shard: a document, a rejected line, or the end-of-split marker.
 * Rejected lines travel downstream (instead of being dropped in the reader) so the operator that owns the
 * metrics counts them and logs them with shard and line.
 *
 * @param shard the shard's path
 * @param shardOrdinal the split's place in the canonical read order (see {@link ShardSchedule}); a shard read in
 *     several epochs, or in several byte ranges, has one ordinal per split
 * @param line 1-based line (or block) number in the split, or row number in the shard; for the end marker, the count
 *     read; 0 for a
 *     rejected record that stands for the whole shard (it could not be opened)
 * @param id the document's id: its own {@code id} field, else {@code shard:line}
 * @param source the corpus source name from the config (for mixture weights and accounting)
 * @param text the document text; null when rejected or at the end
 * @param error why the record was rejected; null for good records
 * @param repairedUtf8 true when the bytes were not valid UTF-8 and bad sequences became U+FFFD
 * @param endOfShard true for the one marker after the last record of a split
 * @param progress how far into its split the reader was after this record, 0 to 1 (see {@link ShardSchedule})
 */
public record CorpusRecord(String shard, int shardOrdinal, long line, String id, String source, String text, String error,
                           boolean repairedUtf8, boolean endOfShard, double progress) {

    public static CorpusRecord document(String shard, int ordinal, long line, String id, String source, String text,
                                        boolean repairedUtf8) {
        return new CorpusRecord(shard, ordinal, line, id, source, text, null, repairedUtf8, false, 0);
    }

    public static CorpusRecord rejected(String shard, int ordinal, long line, String source, String error) {
        return new CorpusRecord(shard, ordinal, line, shard + ":" + line, source, null, error, false, false, 0);
    }

    public static CorpusRecord end(String shard, int ordinal, long records, String source) {
        return new CorpusRecord(shard, ordinal, records, null, source, null, null, false, true, 1);
    }

    /** This record with the reader's progress through its split. */
    CorpusRecord at(double progress) {
        return new CorpusRecord(shard, shardOrdinal, line, id, source, text, error, repairedUtf8, endOfShard, progress);
    }

    /** This rejected record with a note added to its error. */
    CorpusRecord noting(String note) {
        return new CorpusRecord(shard, shardOrdinal, line, id, source, text, error + note, repairedUtf8, endOfShard,
                progress);
    }

    public boolean isRejected() {
        return error != null;
    }

    /** A rejected record standing for a whole shard that could not be opened (missing, unreadable). */
    public boolean isUnreadableShard() {
        return error != null && line == 0;
    }
}
