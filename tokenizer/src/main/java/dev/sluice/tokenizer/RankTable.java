package dev.sluice.tokenizer;

import java.util.Arrays;
import java.util.Map;

/**
 * A BPE vocabulary: token bytes to rank, by open addressing over one byte pool (no per-token objects, no boxing), and
 * rank back to bytes. A lookup hashes a range of a caller's buffer, so the merge loop asks for the rank of two
 * adjacent parts without copying them.
 */
final class RankTable {

    private final byte[] pool;
    private final int[] offsets; // by rank; offsets[rank + 1] - offsets[rank] is the token's length
    private final int[] slots;   // rank + 1, 0 when empty
    private final int mask;

    /** {@code ranks}: token bytes to rank, ranks 0..n-1 each once. */
    RankTable(Map<byte[], Integer> ranks) {
        int n = ranks.size();
        byte[][] byRank = new byte[n][];
        for (var e : ranks.entrySet()) {
            int rank = e.getValue();
            if (rank < 0 || rank >= n || byRank[rank] != null) {
                throw new IllegalArgumentException("ranks must be 0.." + (n - 1) + " once each; " + rank + " is not");
            }
            byRank[rank] = e.getKey();
        }
        offsets = new int[n + 1];
        for (int r = 0; r < n; r++) {
            offsets[r + 1] = offsets[r] + byRank[r].length;
        }
        pool = new byte[offsets[n]];
        for (int r = 0; r < n; r++) {
            System.arraycopy(byRank[r], 0, pool, offsets[r], byRank[r].length);
        }
        int size = Integer.highestOneBit(Math.max(2, n) * 4 - 1); // load factor at most 1/2
        slots = new int[size];
        mask = size - 1;
        for (int r = 0; r < n; r++) {
            int i = hash(pool, offsets[r], byRank[r].length) & mask;
            while (slots[i] != 0) {
                i = (i + 1) & mask;
            }
            slots[i] = r + 1;
        }
    }

    int size() {
        return offsets.length - 1;
    }

    /** The rank of {@code buf[from, from + length)}, or -1 if it is not a token. */
    int rank(byte[] buf, int from, int length) {
        for (int i = hash(buf, from, length) & mask; ; i = (i + 1) & mask) {
            int slot = slots[i];
            if (slot == 0) {
                return -1;
            }
            int r = slot - 1;
            int at = offsets[r];
            if (offsets[r + 1] - at == length && Arrays.equals(pool, at, at + length, buf, from, from + length)) {
                return r;
            }
        }
    }

    int length(int rank) {
        return offsets[rank + 1] - offsets[rank];
    }

    /** Appends the bytes of {@code rank} to {@code out} at {@code at}; returns the new end. */
    int copyBytes(int rank, byte[] out, int at) {
        int length = length(rank);
        System.arraycopy(pool, offsets[rank], out, at, length);
        return at + length;
    }

    private static int hash(byte[] b, int from, int length) {
        int h = length * 0x9E3779B1;
        for (int i = from; i < from + length; i++) {
            h = (h ^ b[i]) * 0x01000193;
        }
        return h ^ (h >>> 15);
    }
}
