package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Initial weights drawn in Java from one seed (SplittableRandom's algorithm is fixed by its spec), so a seed gives
 * the same model on every device and engine version.
 */
final class Init {

    /** Values and shape, made into an NDArray of the model's type on request. */
    record Values(long[] shape, double[] data) {
        NDArray toArray(NDManager manager, DataType dtype) {
            NDArray a;
            if (dtype == DataType.FLOAT64) {
                a = manager.create(data, new Shape(shape));
            } else {
                float[] f = new float[data.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) data[i];
                }
                a = manager.create(f, new Shape(shape));
            }
            NDScope.unregister(a);
            return a;
        }

        /** The same matrix stored transposed ([cols, rows]). */
        Values transposed() {
            int rows = (int) shape[0];
            int cols = (int) shape[1];
            double[] t = new double[data.length];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    t[c * rows + r] = data[r * cols + c];
                }
            }
            return new Values(new long[] {cols, rows}, t);
        }
    }

    private final SplittableRandom random;

    Init(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** N(0, std²), Box–Muller on the seeded stream. */
    Values normal(int rows, int cols, double std) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i += 2) {
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1));
            v[i] = std * r * Math.cos(2 * Math.PI * u2);
            if (i + 1 < v.length) {
                v[i + 1] = std * r * Math.sin(2 * Math.PI * u2);
            }
        }
        return new Values(new long[] {rows, cols}, v);
    }

    /** Uniform with std 0.5/√fan_in, as modded-nanogpt initialises its linear layers. */
    Values uniform(int fanIn, int fanOut) {
        double bound = Math.sqrt(3) * 0.5 / Math.sqrt(fanIn);
        double[] v = new double[fanIn * fanOut];
        for (int i = 0; i < v.length; i++) {
            v[i] = (random.nextDouble() * 2 - 1) * bound;
        }
        return new Values(new long[] {fanIn, fanOut}, v);
    }

    Values zeros(int rows, int cols) {
        return new Values(new long[] {rows, cols}, new double[rows * cols]);
    }

    Values constant(double value) {
        return new Values(new long[0], new double[] {value});
    }
}
