package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Initial weights drawn in Java from one seed (SplittableRandom's algorithm is fixed by its spec), so a seed gives
 * the same model on every device and engine version. {@link Scheme} names whose initialisation a model follows.
 */
final class Init {

    /**
     * How a model's matrices start (docs/trainer.md cites the reference of each).
     * <ul>
     *   <li>{@code modded}: modded-nanogpt's: the embedding N(0, 1), linear layers uniform with std 0.5/√fan_in.
     *   <li>{@code marin}: Haliax's as Marin's speedruns used it: truncated normal on [−3σ, 3σ] scaled by 1/d for the
     *       embedding and by 1/√fan_in for every linear layer.
     *   <li>{@code gpt2}: GPT-2's: N(0, 0.02²) everywhere, the residual output projections N(0, (0.02/√(2L))²).
     * </ul>
     */
    enum Scheme {
        MODDED, MARIN, GPT2;

        static Scheme named(String name) {
            return valueOf(name.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** GPT-2's standard deviation for every weight. */
    static final double GPT2_STD = 0.02;

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

    /** N(0, 1) truncated to [−3, 3] (by rejection, as jax.random.truncated_normal draws it), times {@code scale}. */
    Values truncatedNormal(int rows, int cols, double scale) {
        double[] v = new double[rows * cols];
        int i = 0;
        while (i < v.length) {
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1));
            for (double z : new double[] {r * Math.cos(2 * Math.PI * u2), r * Math.sin(2 * Math.PI * u2)}) {
                if (Math.abs(z) <= 3 && i < v.length) {
                    v[i++] = scale * z;
                }
            }
        }
        return new Values(new long[] {rows, cols}, v);
    }

    /** The token embedding [vocab, d] under {@code scheme}. */
    Values embedding(Scheme scheme, int vocab, int d) {
        return switch (scheme) {
            case MODDED -> normal(vocab, d, 1.0);
            case MARIN -> truncatedNormal(vocab, d, 1.0 / d);
            case GPT2 -> normal(vocab, d, GPT2_STD);
        };
    }

    /** A linear layer stored [fan_in, fan_out] (x·W) under {@code scheme}. */
    Values linear(Scheme scheme, int fanIn, int fanOut) {
        return switch (scheme) {
            case MODDED -> uniform(fanIn, fanOut);
            case MARIN -> truncatedNormal(fanIn, fanOut, 1.0 / Math.sqrt(fanIn));
            case GPT2 -> normal(fanIn, fanOut, GPT2_STD);
        };
    }

    /** A projection back onto the residual stream (attention output, MLP down) of an {@code layers}-layer model. */
    Values residualOutput(Scheme scheme, int fanIn, int fanOut, int layers) {
        return scheme == Scheme.GPT2 ? normal(fanIn, fanOut, GPT2_STD / Math.sqrt(2.0 * layers))
                : linear(scheme, fanIn, fanOut);
    }

    Values zeros(int rows, int cols) {
        return new Values(new long[] {rows, cols}, new double[rows * cols]);
    }

    Values constant(double value) {
        return new Values(new long[0], new double[] {value});
    }
}
