package dev.sluice.trainer.job;

import java.util.ArrayList;
import java.util.List;

/**
 * One rank's share of one step, as the dealer sends it: {@code rows} rows of {@code width} tokens (seq_len+1) in
 * {@code tokens}, plus which sequences the whole step holds (its first and last seq_id and their hash), so rank 0
 * records the step as a one-rank trainer would. A record of primitives and one int[]: Flink's POJO serializer
 * carries it between TaskManagers without Kryo.
 */
public record StepShard(int step, int rank, int rows, int width, int[] tokens, long firstSeqId, long lastSeqId,
                        long seqIdHash) {

    /** Cuts a step's rows into {@code ranks} equal contiguous shards (rank r: rows [r·B/N, (r+1)·B/N)). */
    static List<StepShard> deal(int step, PendingRows.Step rows, int ranks) {
        int total = rows.rows().size();
        if (total % ranks != 0) {
            throw new IllegalStateException("step " + step + " has " + total + " rows, which " + ranks
                    + " ranks cannot share equally");
        }
        int per = total / ranks;
        int width = rows.rows().get(0).length;
        List<StepShard> shards = new ArrayList<>(ranks);
        for (int r = 0; r < ranks; r++) {
            int[] tokens = new int[per * width];
            for (int i = 0; i < per; i++) {
                System.arraycopy(rows.rows().get(r * per + i), 0, tokens, i * width, width);
            }
            shards.add(new StepShard(step, r, per, width, tokens, rows.firstSeqId(), rows.lastSeqId(),
                    rows.seqIdHash()));
        }
        return shards;
    }

    List<int[]> rowList() {
        List<int[]> out = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            int[] row = new int[width];
            System.arraycopy(tokens, i * width, row, 0, width);
            out.add(row);
        }
        return out;
    }
}
