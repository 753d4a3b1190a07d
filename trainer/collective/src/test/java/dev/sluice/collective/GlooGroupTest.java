package dev.sluice.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real Gloo groups over loopback TCP, one thread per rank, checked against sums computed here in Java. */
class GlooGroupTest {

    @TempDir
    Path store;

    private <T> List<T> onRanks(int size, String prefix, RankThreads.Work<T> work) throws Exception {
        return new RankThreads(store, GlooGroup::join).run(size, prefix, work);
    }

    private static float[] values(int rank, int n) {
        SplittableRandom random = new SplittableRandom(rank);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    @Test
    void twoRanksSumExactlyWhatJavaSums() throws Exception {
        int n = 300_001; // not a multiple of anything Gloo chunks by
        List<float[]> out = onRanks(2, "sum", g -> {
            FloatBuffer data = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
            data.put(values(g.rank(), n)).flip();
            g.allreduceSum(data);
            float[] result = new float[n];
            data.get(result);
            return result;
        });
        float[] a = values(0, n);
        float[] b = values(1, n);
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            expected[i] = a[i] + b[i]; // one addition: the same in any order
        }
        assertArrayEquals(expected, out.get(0));
        assertArrayEquals(expected, out.get(1));
    }

    @Test
    void threeRanksSumDoublesAndBroadcastRootsBytes() throws Exception {
        int n = 1000;
        List<double[]> sums = onRanks(3, "three", g -> {
            DoubleBuffer data = ByteBuffer.allocateDirect(8 * n).order(ByteOrder.nativeOrder()).asDoubleBuffer();
            for (int i = 0; i < n; i++) {
                data.put(i, (g.rank() + 1) * (double) i); // integers: exact in any order of addition
            }
            g.allreduceSum(data);
            double[] result = new double[n];
            data.get(result);
            return result;
        });
        for (double[] s : sums) {
            for (int i = 0; i < n; i++) {
                assertEquals(6.0 * i, s[i]);
            }
        }
        List<byte[]> copies = onRanks(3, "broadcast", g -> {
            ByteBuffer data = ByteBuffer.allocateDirect(64);
            for (int i = 0; i < 64; i++) {
                data.put(i, (byte) (g.rank() * 64 + i));
            }
            g.broadcast(data, 1);
            g.barrier();
            byte[] result = new byte[64];
            data.get(result);
            return result;
        });
        for (byte[] copy : copies) {
            assertEquals((byte) 64, copy[0], "rank 1's bytes");
            assertEquals((byte) 127, copy[63]);
        }
    }

    @Test
    void aRankThatNeverArrivesFailsTheOthersAfterTheTimeout() {
        GlooGroup.Rendezvous alone = new GlooGroup.Rendezvous(store, "alone", 0, 2, "127.0.0.1",
                Duration.ofSeconds(2));
        long start = System.nanoTime();
        RuntimeException e = assertThrows(RuntimeException.class, () -> GlooGroup.join(alone).close());
        double seconds = (System.nanoTime() - start) / 1e9;
        assertTrue(seconds < 20, "failed after " + seconds + " s");
        assertTrue(e.getMessage().toLowerCase().contains("timeout"), e.getMessage());
    }

    @Test
    void aHeapBufferOrARankOutsideTheGroupIsRefused() throws Exception {
        assertThrows(IllegalArgumentException.class,
                () -> new GlooGroup.Rendezvous(store, "x", 2, 2, "127.0.0.1", Duration.ofSeconds(1)));
        assertTrue(GlooGroup.unavailable().isEmpty(), GlooGroup.unavailable().orElse(""));
        try (GlooGroup one = GlooGroup.join(new GlooGroup.Rendezvous(store, "one", 0, 1, "127.0.0.1",
                Duration.ofSeconds(5)))) {
            assertThrows(IllegalArgumentException.class, () -> one.allreduceSum(FloatBuffer.allocate(4)));
        }
    }
}
