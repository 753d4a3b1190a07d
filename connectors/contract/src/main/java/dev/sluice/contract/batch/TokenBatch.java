package dev.sluice.contract.batch;

/**
 * N packed sequences: the unit written to (and read from) one Kafka record as one Arrow RecordBatch.
 *
 * @param tokens row-major, {@code size() * meta.rowLength()} ids
 * @param seqIds one per row, unique within a topic
 * @param sources the corpus source of each row
 */
public record TokenBatch(BatchMeta meta, int[] tokens, long[] seqIds, String[] sources) {

    public TokenBatch {
        if (tokens.length != seqIds.length * meta.rowLength() || sources.length != seqIds.length) {
            throw new IllegalArgumentException("batch of " + seqIds.length + " rows has " + tokens.length
                    + " tokens and " + sources.length + " sources; rows of " + meta.rowLength() + " expected");
        }
    }

    public int size() {
        return seqIds.length;
    }

    /** Row {@code i}: seq_len+1 ids. */
    public int[] row(int i) {
        int n = meta.rowLength();
        return java.util.Arrays.copyOfRange(tokens, i * n, (i + 1) * n);
    }
}
