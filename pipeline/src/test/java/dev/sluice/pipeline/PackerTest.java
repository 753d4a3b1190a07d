package dev.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PackerTest {

    static final int BOS = 99;

    static List<int[]> pack(boolean bosAligned, int rowLength, int[]... docs) {
        Packer p = new Packer(rowLength, bosAligned);
        List<int[]> out = new ArrayList<>();
        for (int[] d : docs) {
            p.add(BOS, d, w -> out.add(w.clone()));
        }
        p.finish();
        return out;
    }

    @Test
    void concatCutsOneStreamOfBosLedDocuments() {
        List<int[]> w = pack(false, 4, new int[] {1, 2}, new int[] {3, 4, 5}, new int[] {6});
        // stream: 99 1 2 99 3 4 5 99 6 -> [99 1 2 99] [3 4 5 99], tail [6] dropped
        assertEquals(2, w.size());
        assertArrayEquals(new int[] {99, 1, 2, 99}, w.get(0));
        assertArrayEquals(new int[] {3, 4, 5, 99}, w.get(1));
    }

    @Test
    void bosAlignedDropsTheCutTailOfShortDocumentsButContinuesLongOnes() {
        Packer p = new Packer(4, true);
        List<int[]> w = new ArrayList<>();
        p.add(BOS, new int[] {1, 2}, x -> w.add(x.clone()));       // 99 1 2 _
        p.add(BOS, new int[] {3, 4}, x -> w.add(x.clone()));       // fills with 99 -> window; 3 4 dropped
        p.add(BOS, new int[] {5, 6, 7, 8, 9, 10}, x -> w.add(x.clone())); // long: 99 5 6 7 | 8 9 10 _
        p.add(BOS, new int[] {11}, x -> w.add(x.clone()));         // 8 9 10 99 -> window; 11 dropped
        assertArrayEquals(new int[] {99, 1, 2, 99}, w.get(0));
        assertArrayEquals(new int[] {99, 5, 6, 7}, w.get(1));
        assertArrayEquals(new int[] {8, 9, 10, 99}, w.get(2));
        assertEquals(3, w.size());
        assertEquals(3, p.droppedTokens());
        p.add(BOS, new int[] {12}, x -> w.add(x.clone()));         // 99 12 _ _
        p.finish();
        assertEquals(5, p.droppedTokens()); // the partial window at the shard's end
    }

    @Test
    void snapshotRestoresThePartialWindowExactly() {
        Packer p = new Packer(5, false);
        List<int[]> direct = new ArrayList<>();
        p.add(BOS, new int[] {1, 2, 3, 4, 5, 6}, x -> direct.add(x.clone()));
        Packer restored = Packer.restore(5, false, p.snapshot());
        List<int[]> a = new ArrayList<>();
        List<int[]> b = new ArrayList<>();
        p.add(BOS, new int[] {7, 8, 9}, x -> a.add(x.clone()));
        restored.add(BOS, new int[] {7, 8, 9}, x -> b.add(x.clone()));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i));
        }
        assertEquals(p.windows(), restored.windows());
    }
}
