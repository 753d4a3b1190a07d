package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/** Small models for tests: every feature on unless a test turns one off. */
final class Models {

    private Models() {}

    static ModelConfig small(boolean zeroInit, boolean backout, boolean residualMix, boolean slidingWindow,
                             String pattern, int layers) {
        return new ModelConfig(128, 16, layers, 2, 8, 4, true, true, 0.5, 1024.0, 1.35, true, residualMix, backout,
                zeroInit, 5.0, slidingWindow, pattern, true, null, null, null);
    }

    static ModelConfig allFeatures() {
        return small(true, true, true, true, "SSSL", 3);
    }

    static NDArray tokens(NDManager m, long seed, int rows, int width) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] t = new long[rows * width];
        for (int i = 0; i < t.length; i++) {
            t[i] = r.nextInt(120);
        }
        return m.create(t, new Shape(rows, width));
    }

    /** Largest |a − b| over every parameter's gradient, relative to the largest |b|. */
    static double relativeError(java.util.Map<String, float[]> a, java.util.Map<String, float[]> b) {
        double diff = 0;
        double scale = 0;
        for (String name : b.keySet()) {
            float[] x = a.get(name);
            float[] y = b.get(name);
            for (int i = 0; i < y.length; i++) {
                diff = Math.max(diff, Math.abs(x[i] - y[i]));
                scale = Math.max(scale, Math.abs(y[i]));
            }
        }
        return diff / scale;
    }

    /** Adds N(0, std²) noise to every weight, so no path is degenerate (zero-initialised projections included). */
    static void perturb(Gpt model, long seed, double std) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Gpt.Param p : model.parameters()) {
            double[] v = p.value().toType(DataType.FLOAT64, false).toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                v[i] += std * (r.nextDouble() * 2 - 1);
            }
            try (NDArray noisy = p.value().getManager().create(v, p.value().getShape())) {
                p.value().set(noisy.toType(p.value().getDataType(), false).toByteBuffer());
            }
        }
    }
}
