package dev.sluice.connectors.corpus;

import java.io.Closeable;
import java.io.IOException;

/** The documents of one open shard, in order. Each format (JSON lines, text, Parquet) is one implementation. */
interface ShardDocuments extends Closeable {

    /** The next document or rejected record, or null at the end of the shard. */
    CorpusRecord next() throws IOException;

    /** The line (or row) reached, for the message when the file breaks. */
    long position();
}
