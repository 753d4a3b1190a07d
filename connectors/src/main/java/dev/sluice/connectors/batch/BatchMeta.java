package dev.sluice.connectors.batch;

import dev.sluice.tokenizer.Tokenizer;

/**
 * What every batch on a topic declares about itself (Arrow schema metadata); a reader refuses batches whose
 * declaration differs from what it expects.
 */
public record BatchMeta(String tokenizer, int vocabSize, int bosId, int eosId, int seqLen, int formatVersion)
        implements java.io.Serializable {

    public static final int FORMAT_VERSION = 1;

    public static BatchMeta of(Tokenizer tokenizer, int seqLen) {
        return new BatchMeta(tokenizer.name(), tokenizer.vocabSize(), tokenizer.bosId(), tokenizer.eosId(), seqLen,
                FORMAT_VERSION);
    }

    /** Tokens per row: inputs are [0, seqLen), targets [1, seqLen]. */
    public int rowLength() {
        return seqLen + 1;
    }

    /** Throws, naming every field that differs, unless {@code actual} matches this expectation. */
    public void requireMatches(BatchMeta actual, String where) {
        if (equals(actual)) {
            return;
        }
        StringBuilder diff = new StringBuilder();
        compare(diff, "tokenizer", tokenizer, actual.tokenizer);
        compare(diff, "vocab_size", vocabSize, actual.vocabSize);
        compare(diff, "bos_id", bosId, actual.bosId);
        compare(diff, "eos_id", eosId, actual.eosId);
        compare(diff, "seq_len", seqLen, actual.seqLen);
        compare(diff, "format_version", formatVersion, actual.formatVersion);
        throw new BatchMismatchException(where + " does not match: " + diff);
    }

    private static void compare(StringBuilder diff, String field, Object expected, Object actual) {
        if (!expected.equals(actual)) {
            diff.append(diff.length() == 0 ? "" : "; ").append(field).append(" is ").append(actual)
                    .append(", expected ").append(expected);
        }
    }

    /** A batch written for another tokenizer, sequence length or format than the reader's. */
    public static final class BatchMismatchException extends BadBatchException {
        public BatchMismatchException(String message) {
            super(message);
        }
    }
}
