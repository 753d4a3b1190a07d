package dev.sluice.tokenizer;

import java.util.Arrays;

/**
 * Byte-level BPE as tiktoken defines it (merge the adjacent pair of lowest rank, leftmost first, until none is a
 * token), written for speed: a piece's UTF-8 goes into a reused buffer, a piece that is a token whole is found by one
 * lookup, the merge loop works on int arrays (a heap for long pieces, whose quadratic loop would crawl), and the ids
 * of recent pieces are cached by their characters, since text repeats its words. Each thread gets its own buffers
 * and cache; the vocabulary is shared.
 */
final class BytePairEncoder {

    /** Pieces up to this many chars are cached; longer ones are rare and rarely repeat. */
    private static final int CACHED_CHARS = 24;
    /** Above this many bytes the merge loop uses a heap. */
    private static final int HEAP_BYTES = 128;

    private final RankTable ranks;
    private final Splitter splitter;
    private final ThreadLocal<State> state;

    BytePairEncoder(RankTable ranks, Splitter splitter) {
        this.ranks = ranks;
        this.splitter = splitter;
        this.state = ThreadLocal.withInitial(State::new);
    }

    RankTable ranks() {
        return ranks;
    }

    /** The ids of {@code text} (no unpaired surrogates: {@link ValidText}). */
    int[] encode(String text) {
        State s = state.get();
        s.count = 0;
        for (int from = 0, n = text.length(); from < n; ) {
            int end = splitter.end(text, from);
            piece(s, text, from, end);
            from = end;
        }
        int[] ids = Arrays.copyOf(s.out, s.count);
        s.shrink();
        return ids;
    }

    private void piece(State s, String text, int from, int end) {
        int chars = end - from;
        int hash = 0;
        if (chars <= CACHED_CHARS) {
            for (int i = from; i < end; i++) {
                hash = hash * 31 + text.charAt(i);
            }
            int[] cached = s.cache.get(text, from, end, hash);
            if (cached != null) {
                s.append(cached);
                return;
            }
        }
        int bytes = s.utf8(text, from, end);
        int whole = ranks.rank(s.bytes, 0, bytes);
        int[] ids = whole >= 0 ? new int[] {whole} : bytes > HEAP_BYTES ? mergeLong(s, bytes) : merge(s, bytes);
        if (chars <= CACHED_CHARS) {
            s.cache.put(text, from, end, hash, ids);
        }
        s.append(ids);
    }

    /** tiktoken's loop: parts as boundaries, each with the rank of the pair it starts (MAX_VALUE: none). */
    private int[] merge(State s, int n) {
        int[] at = s.boundaries(n + 1);
        int[] rank = s.pairRanks(n + 1);
        for (int i = 0; i <= n; i++) {
            at[i] = i;
        }
        int parts = n + 1; // boundaries
        for (int i = 0; i + 2 < parts; i++) {
            rank[i] = rankOf(s.bytes, at[i], at[i + 2]);
        }
        rank[parts - 2] = Integer.MAX_VALUE;
        rank[parts - 1] = Integer.MAX_VALUE;
        while (parts > 2) {
            int best = Integer.MAX_VALUE;
            int i = -1;
            for (int k = 0; k < parts - 2; k++) {
                if (rank[k] < best) {
                    best = rank[k];
                    i = k;
                }
            }
            if (i < 0) {
                break;
            }
            // boundary i+1 goes: the part at i now ends at at[i+2]
            System.arraycopy(at, i + 2, at, i + 1, parts - i - 2);
            System.arraycopy(rank, i + 2, rank, i + 1, parts - i - 2);
            parts--;
            rank[i] = i + 2 < parts ? rankOf(s.bytes, at[i], at[i + 2]) : Integer.MAX_VALUE;
            if (i > 0) {
                rank[i - 1] = rankOf(s.bytes, at[i - 1], at[i + 1]);
            }
        }
        int[] ids = new int[parts - 1];
        for (int k = 0; k < parts - 1; k++) {
            ids[k] = ranks.rank(s.bytes, at[k], at[k + 1] - at[k]);
        }
        return ids;
    }

    /**
     * The same merges for long pieces in O(n log n): parts as a linked list over byte positions, candidate pairs in
     * a heap ordered by (rank, position), so ties go to the leftmost as in the loop above; stale entries are skipped.
     */
    private int[] mergeLong(State s, int n) {
        int[] next = new int[n + 1];
        int[] prev = new int[n + 1];
        int[] pair = new int[n + 1]; // rank of the pair starting at a live position, MAX_VALUE if none
        for (int i = 0; i <= n; i++) {
            next[i] = i + 1;
            prev[i] = i - 1;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 2 <= n; i++) {
            pair[i] = rankOf(s.bytes, i, i + 2);
            if (pair[i] != Integer.MAX_VALUE) {
                heap.push(((long) pair[i] << 32) | i);
            }
        }
        pair[n - 1] = Integer.MAX_VALUE;
        boolean[] gone = new boolean[n + 1];
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int i = (int) top;
            int r = (int) (top >>> 32);
            if (gone[i] || pair[i] != r) {
                continue;
            }
            int j = next[i]; // merge the part at i with the part at j
            gone[j] = true;
            next[i] = next[j];
            if (next[j] <= n) {
                prev[next[j]] = i;
            }
            pair[i] = next[i] < n ? rankOf(s.bytes, i, next[next[i]]) : Integer.MAX_VALUE;
            if (pair[i] != Integer.MAX_VALUE) {
                heap.push(((long) pair[i] << 32) | i);
            }
            if (prev[i] >= 0) {
                int p = prev[i];
                pair[p] = rankOf(s.bytes, p, next[i]);
                if (pair[p] != Integer.MAX_VALUE) {
                    heap.push(((long) pair[p] << 32) | p);
                }
            }
        }
        int count = 0;
        for (int i = 0; i < n; i = next[i]) {
            count++;
        }
        int[] ids = new int[count];
        int k = 0;
        for (int i = 0; i < n; i = next[i]) {
            ids[k++] = ranks.rank(s.bytes, i, next[i] - i);
        }
        return ids;
    }

    private int rankOf(byte[] bytes, int from, int to) {
        int r = ranks.rank(bytes, from, to - from);
        return r < 0 ? Integer.MAX_VALUE : r;
    }

    /** A min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(16, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, size * 2);
            }
            int i = size++;
            while (i > 0 && a[(i - 1) >>> 1] > v) {
                a[i] = a[(i - 1) >>> 1];
                i = (i - 1) >>> 1;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && a[child + 1] < a[child]) {
                    child++;
                }
                if (a[child] >= last) {
                    break;
                }
                a[i] = a[child];
                i = child;
            }
            a[i] = last;
            return top;
        }
    }

    /** A thread's buffers and word cache. */
    private static final class State {
        byte[] bytes = new byte[256];
        int[] out = new int[1024];
        int count;
        private int[] at = new int[64];
        private int[] rank = new int[64];
        final WordCache cache = new WordCache();

        void append(int[] ids) {
            if (count + ids.length > out.length) {
                out = Arrays.copyOf(out, Math.max(out.length * 2, count + ids.length));
            }
            System.arraycopy(ids, 0, out, count, ids.length);
            count += ids.length;
        }

        int[] boundaries(int n) {
            if (at.length < n) {
                at = new int[n * 2];
            }
            return at;
        }

        int[] pairRanks(int n) {
            if (rank.length < n) {
                rank = new int[n * 2];
            }
            return rank;
        }

        /** After a huge document or piece, the buffers go back to their usual size: memory must not follow input. */
        void shrink() {
            if (out.length > 1 << 20) {
                out = new int[1024];
            }
            if (bytes.length > 1 << 20) {
                bytes = new byte[256];
            }
            if (at.length > 1 << 16) {
                at = new int[64];
                rank = new int[64];
            }
        }

        /** UTF-8 of {@code text[from, end)} into {@link #bytes} (surrogates come in pairs); returns the length. */
        int utf8(String text, int from, int end) {
            if (bytes.length < 3 * (end - from)) { // at most 3 bytes per char (a pair's 4 bytes are 2 chars)
                bytes = new byte[Math.max(2 * bytes.length, 3 * (end - from))];
            }
            int k = 0;
            for (int i = from; i < end; i++) {
                char c = text.charAt(i);
                if (c < 0x80) {
                    bytes[k++] = (byte) c;
                } else if (c < 0x800) {
                    bytes[k++] = (byte) (0xC0 | (c >> 6));
                    bytes[k++] = (byte) (0x80 | (c & 0x3F));
                } else if (Character.isHighSurrogate(c)) {
                    int cp = Character.toCodePoint(c, text.charAt(++i));
                    bytes[k++] = (byte) (0xF0 | (cp >> 18));
                    bytes[k++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                    bytes[k++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                    bytes[k++] = (byte) (0x80 | (cp & 0x3F));
                } else {
                    bytes[k++] = (byte) (0xE0 | (c >> 12));
                    bytes[k++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                    bytes[k++] = (byte) (0x80 | (c & 0x3F));
                }
            }
            return k;
        }
    }

    /**
     * Recent pieces' ids by their characters: open addressing, emptied whole when half full (a bounded cache with
     * no per-entry bookkeeping; the frequent words come back within a few documents).
     */
    private static final class WordCache {
        private static final int SIZE = 1 << 16;
        private final char[][] keys = new char[SIZE][];
        private final int[][] values = new int[SIZE][];
        private final int[] hashes = new int[SIZE];
        private int used;

        int[] get(String text, int from, int end, int hash) {
            for (int i = spread(hash); ; i = (i + 1) & (SIZE - 1)) {
                char[] key = keys[i];
                if (key == null) {
                    return null;
                }
                if (hashes[i] == hash && matches(key, text, from, end)) {
                    return values[i];
                }
            }
        }

        void put(String text, int from, int end, int hash, int[] ids) {
            if (used >= SIZE / 2) {
                Arrays.fill(keys, null);
                Arrays.fill(values, null);
                used = 0;
            }
            int i = spread(hash);
            while (keys[i] != null) {
                i = (i + 1) & (SIZE - 1);
            }
            char[] key = new char[end - from];
            text.getChars(from, end, key, 0);
            keys[i] = key;
            values[i] = ids;
            hashes[i] = hash;
            used++;
        }

        private static int spread(int hash) {
            int h = hash * 0x9E3779B1;
            return (h ^ (h >>> 16)) & (SIZE - 1);
        }

        private static boolean matches(char[] key, String text, int from, int end) {
            if (key.length != end - from) {
                return false;
            }
            for (int k = 0; k < key.length; k++) {
                if (key[k] != text.charAt(from + k)) {
                    return false;
                }
            }
            return true;
        }
    }
}
