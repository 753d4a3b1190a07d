package dev.sluice.trainer.job;

import dev.sluice.contract.batch.TokenBatch;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Rows received from the topic but not yet trained: a step takes as many as the batch-size schedule says, so a
 * batch from Kafka rarely ends where a step does. They are part of every checkpoint, with the source's offsets.
 */
final class PendingRows {

    /** One step's rows and which sequences they were. */
    record Step(List<int[]> rows, long firstSeqId, long lastSeqId, long seqIdHash) {}

    private final ArrayDeque<long[]> rows = new ArrayDeque<>(); // [seq_id, tokens...]

    void add(TokenBatch batch) {
        int width = batch.meta().rowLength();
        for (int r = 0; r < batch.size(); r++) {
            long[] row = new long[width + 1];
            row[0] = batch.seqIds()[r];
            for (int i = 0; i < width; i++) {
                row[i + 1] = batch.tokens()[r * width + i];
            }
            rows.add(row);
        }
    }

    int size() {
        return rows.size();
    }

    Step take(int n) {
        List<int[]> out = new ArrayList<>(n);
        long hash = 1125899906842597L;
        long first = -1;
        long last = -1;
        for (int i = 0; i < n; i++) {
            long[] row = rows.poll();
            int[] tokens = new int[row.length - 1];
            for (int j = 0; j < tokens.length; j++) {
                tokens[j] = (int) row[j + 1];
            }
            out.add(tokens);
            hash = 31 * hash + row[0];
            first = i == 0 ? row[0] : first;
            last = row[0];
        }
        return new Step(out, first, last, hash);
    }

    void write(DataOutputStream out) throws IOException {
        out.writeInt(rows.size());
        for (long[] row : rows) {
            out.writeInt(row.length);
            for (long v : row) {
                out.writeLong(v);
            }
        }
    }

    void read(DataInputStream in) throws IOException {
        for (int n = in.readInt(); n > 0; n--) {
            long[] row = new long[in.readInt()];
            for (int i = 0; i < row.length; i++) {
                row[i] = in.readLong();
            }
            rows.add(row);
        }
    }
}
