package dev.sluice.connectors.corpus;

/** What every record read from one shard carries, and the ways a record of it is made. */
record ShardContext(String shard, int ordinal, CorpusFormat.Options options) {

    CorpusRecord document(long line, String id, String text, boolean repairedUtf8) {
        return CorpusRecord.document(shard, ordinal, line, id, options.source(), text, repairedUtf8);
    }

    CorpusRecord rejected(long line, String error) {
        return CorpusRecord.rejected(shard, ordinal, line, options.source(), error);
    }

    CorpusRecord tooLarge(long line, long length) {
        return rejected(line, "document of " + length + "+ bytes exceeds max_document_bytes " + options.maxDocumentBytes());
    }

    CorpusRecord end(long records) {
        return CorpusRecord.end(shard, ordinal, records, options.source());
    }
}
