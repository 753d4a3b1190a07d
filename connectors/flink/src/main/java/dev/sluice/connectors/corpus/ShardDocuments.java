package dev.sluice.connectors.corpus;

import java.io.Closeable;
import java.io.IOException;

/** The documents of one open split of a shard, in order. Each format (JSON lines, text, Parquet) is one implementation. */
interface ShardDocuments extends Closeable {

    /** The next document or rejected record, or null at the end of the split. */
    CorpusRecord next() throws IOException;

    /** The line (or row) reached, for the message when the file breaks. */
    long position();

    /**
     * How far into its split reading is, from 0 to 1, in the split's own units (bytes of the file as stored). It
     * only grows, and depends on the file alone, so the sampler can order sequences by it.
     */
    double progress();
}
