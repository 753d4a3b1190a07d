package dev.sluice.connectors.corpus;

import java.util.Locale;

/** How the documents of a shard are laid out, told from the file name. */
public enum ShardFormat {
    /** One JSON object per line; the text in a configurable field. {@code .jsonl}, {@code .jsonl.gz}, {@code .jsonl.zst}. */
    JSONL,
    /** Plain text; one document per file or per blank-line-separated block. {@code .txt} (also compressed). */
    TEXT,
    /** Parquet with a string column holding the text (FineWeb's layout). {@code .parquet}. */
    PARQUET;

    /** The format of a shard named {@code fileName}, or null when Sluice does not read that kind of file. */
    public static ShardFormat of(String fileName) {
        String name = Compression.stripSuffix(fileName.toLowerCase(Locale.ROOT));
        if (name.endsWith(".jsonl") || name.endsWith(".json")) {
            return JSONL;
        }
        if (name.endsWith(".txt")) {
            return TEXT;
        }
        if (name.endsWith(".parquet")) {
            return PARQUET;
        }
        return null;
    }
}
