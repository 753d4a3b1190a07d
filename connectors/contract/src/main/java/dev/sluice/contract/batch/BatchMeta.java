package dev.sluice.contract.batch;

import dev.sluice.tokenizer.Tokenizer;

/**
 * What every batch on a topic declares about itself (Arrow schema metadata); a reader refuses batches whose
 * declaration differs from what it expects.
 */
public record BatchMeta(String tokenizer, int vocabSize, int bosId, int eosId, int seqLen, int formatVersion)
        implements java.io.Serializable {

    /** Format 1: token ids as int32, for any vocabulary. */
    public static final int INT32_IDS = 1;
    /** Format 2: token ids as uint16, for vocabularies of at most 65,536 ids (gpt2): half the bytes through Kafka. */
    public static final int UINT16_IDS = 2;

    /** What a writer declares: the narrower format where the vocabulary fits it. */
    public static BatchMeta of(Tokenizer tokenizer, int seqLen) {
        return new BatchMeta(tokenizer.name(), tokenizer.vocabSize(), tokenizer.bosId(), tokenizer.eosId(), seqLen,
                tokenizer.vocabSize() <= 1 << 16 ? UINT16_IDS : INT32_IDS);
    }

    /** Bytes per token id on the wire. */
    public int idBytes() {
        return formatVersion == UINT16_IDS ? 2 : 4;
    }

    /** Whether this reader can read batches of {@code version} for a vocabulary of {@code vocabSize}. */
    static boolean readable(int version, int vocabSize) {
        return version == INT32_IDS || (version == UINT16_IDS && vocabSize <= 1 << 16);
    }

    /** Tokens per row: inputs are [0, seqLen), targets [1, seqLen]. */
    public int rowLength() {
        return seqLen + 1;
    }

    /**
     * Throws, naming every field that differs, unless {@code actual} matches this expectation. The format version
     * may differ as long as this reader reads it (a topic written before format 2, or by a writer that kept int32).
     */
    public void requireMatches(BatchMeta actual, String where) {
        StringBuilder diff = new StringBuilder();
        compare(diff, "tokenizer", tokenizer, actual.tokenizer);
        compare(diff, "vocab_size", vocabSize, actual.vocabSize);
        compare(diff, "bos_id", bosId, actual.bosId);
        compare(diff, "eos_id", eosId, actual.eosId);
        compare(diff, "seq_len", seqLen, actual.seqLen);
        if (!readable(actual.formatVersion, actual.vocabSize)) {
            diff.append(diff.length() == 0 ? "" : "; ").append("format_version is ").append(actual.formatVersion)
                    .append(", readable: 1 (int32 ids), 2 (uint16 ids, vocabularies up to 65,536)");
        }
        if (diff.length() > 0) {
            throw new BatchMismatchException(where + " does not match: " + diff);
        }
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
