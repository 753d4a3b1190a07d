package dev.sluice.trainer;

import dev.sluice.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Local data without the pipeline: documents as one stream of {@code [BOS] + ids}, cut into rows of seq_len+1
 * (the pipeline's {@code concat} packing). For scoring a text file and for tests that train without Kafka.
 */
public final class TextRows {

    private TextRows() {}

    /** Rows of seq_len+1 tokens; a tail shorter than a row is dropped. */
    public static List<int[]> of(Tokenizer tokenizer, List<String> documents, int seqLen) {
        int width = seqLen + 1;
        List<int[]> rows = new ArrayList<>();
        int[] row = new int[width];
        int filled = 0;
        for (String doc : documents) {
            int[] ids = tokenizer.encode(doc);
            for (int i = -1; i < ids.length; i++) {
                row[filled++] = i < 0 ? tokenizer.bosId() : ids[i];
                if (filled == width) {
                    rows.add(row);
                    row = new int[width];
                    filled = 0;
                }
            }
        }
        return rows;
    }
}
