package dev.sluice.pipeline;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Packs one corpus split's documents into windows of seq_len+1 tokens, each document led by the delimiter (BOS).
 *
 * <p>{@code concat}: the documents form one stream, cut every seq_len+1 tokens. {@code bos_aligned} (the
 * speedrun's align-to-BOS): a document that fits in one window but is cut by a window's end loses its cut-off
 * tail (counted in {@link #droppedTokens()}), so the next window starts at the next document's BOS; only a
 * document longer than a window continues in the next windows (which then start mid-document). The tail left at the end of a split is dropped and counted too.
 * The state is one partial window, so it fits in Flink keyed state.
 */
final class Packer {

    private final int rowLength;
    private final boolean bosAligned;
    private int[] window;
    private int filled;
    private long windows;
    private long droppedTokens;

    Packer(int rowLength, boolean bosAligned) {
        this.rowLength = rowLength;
        this.bosAligned = bosAligned;
        this.window = new int[rowLength];
    }

    /** Adds {@code [bos] + ids}; emits each window it completes. */
    void add(int bos, int[] ids, Consumer<int[]> emit) {
        int n = ids.length + 1;
        int pos = 0; // position within [bos] + ids
        while (pos < n) {
            if (pos == 0) {
                window[filled++] = bos;
                pos = 1;
            } else {
                int take = Math.min(rowLength - filled, n - pos);
                System.arraycopy(ids, pos - 1, window, filled, take);
                filled += take;
                pos += take;
            }
            if (filled == rowLength) {
                emit.accept(window);
                window = new int[rowLength];
                filled = 0;
                windows++;
                if (bosAligned && pos < n && n <= rowLength) {
                    droppedTokens += n - pos;
                    return;
                }
            }
        }
    }

    /** The split has ended: the partial window is dropped. */
    void finish() {
        droppedTokens += filled;
        filled = 0;
    }

    long windows() {
        return windows;
    }

    long droppedTokens() {
        return droppedTokens;
    }

    /** The state to checkpoint: the partial window, then the counters. */
    long[] snapshot() {
        long[] s = new long[3 + filled];
        s[0] = filled;
        s[1] = windows;
        s[2] = droppedTokens;
        for (int i = 0; i < filled; i++) {
            s[3 + i] = window[i];
        }
        return s;
    }

    static Packer restore(int rowLength, boolean bosAligned, long[] s) {
        Packer p = new Packer(rowLength, bosAligned);
        if (s != null) {
            p.filled = (int) s[0];
            p.windows = s[1];
            p.droppedTokens = s[2];
            for (int i = 0; i < p.filled; i++) {
                p.window[i] = (int) s[3 + i];
            }
        }
        return p;
    }

    @Override
    public String toString() {
        return "Packer{filled=" + filled + ", windows=" + windows + ", window=" + Arrays.toString(window) + "}";
    }
}
