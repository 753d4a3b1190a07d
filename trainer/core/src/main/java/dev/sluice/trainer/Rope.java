package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding over part of each head: of the head_dim/2 rotation pairs, a fraction rotates with
 * frequencies from 1 down to 1/base (modded-nanogpt's half-truncated RoPE), the rest have frequency 0 and stay
 * still. Each time the long attention window grows from w to w' (modded-nanogpt's YaRN), frequencies that turn
 * fewer than 32 times within w are slowed by up to w/w' (fully below one turn, blended in between) and the
 * attention temperature is multiplied by 0.2·ln(w'/w) + 1; both compound over the run's windows.
 */
final class Rope {

    private Rope() {}

    /** cos and sin of every (position, pair) angle, [T, head_dim/2]. */
    record Table(NDArray cos, NDArray sin, double attentionTemperature) implements AutoCloseable {

        /** Rotates x [B, H, T, head_dim]: pairs are (x[i], x[i + head_dim/2]). */
        NDArray apply(NDArray x) {
            long half = x.getShape().get(3) / 2;
            NDList parts = x.split(new long[] {half}, 3);
            NDArray x1 = parts.get(0);
            NDArray x2 = parts.get(1);
            NDArray y1 = x1.mul(cos).add(x2.mul(sin));
            NDArray y2 = x2.mul(cos).sub(x1.mul(sin));
            return y1.concat(y2, 3);
        }

        @Override
        public void close() {
            cos.close();
            sin.close();
        }
    }

    /**
     * Angular frequency of each rotation pair after the window has grown through {@code windows} (increasing,
     * first the initial window, last the current one).
     */
    static double[] frequencies(int headDim, double fraction, double base, int... windows) {
        int pairs = headDim / 2;
        int rotating = (int) Math.round(fraction * pairs);
        double[] f = new double[pairs];
        for (int j = 0; j < rotating; j++) {
            f[j] = rotating == 1 ? 1.0 : Math.pow(1.0 / base, (double) j / (rotating - 1));
        }
        for (int i = 1; i < windows.length; i++) {
            double scaling = (double) windows[i - 1] / windows[i];
            for (int j = 0; j < rotating; j++) {
                double rotations = windows[i - 1] * f[j] / (2 * Math.PI); // turns within the previous window
                double keep = Math.min(1, Math.max(0, (rotations - 1) / (32 - 1)));
                f[j] *= scaling + keep * (1 - scaling);
            }
        }
        return f;
    }

    /** The attention temperature after the window has grown through {@code windows}. */
    static double temperature(int... windows) {
        double t = 1;
        for (int i = 1; i < windows.length; i++) {
            t *= 0.2 * Math.log((double) windows[i] / windows[i - 1]) + 1;
        }
        return t;
    }

    static Table table(NDManager manager, DataType dtype, int seqLen, int headDim, double fraction, double base,
                       int... windows) {
        double[] f = frequencies(headDim, fraction, base, windows);
        int pairs = f.length;
        double[] cos = new double[seqLen * pairs];
        double[] sin = new double[seqLen * pairs];
        for (int t = 0; t < seqLen; t++) {
            for (int j = 0; j < pairs; j++) {
                cos[t * pairs + j] = Math.cos(t * f[j]);
                sin[t * pairs + j] = Math.sin(t * f[j]);
            }
        }
        NDArray c = manager.create(cos, new Shape(seqLen, pairs)).toType(dtype, false);
        NDArray s = manager.create(sin, new Shape(seqLen, pairs)).toType(dtype, false);
        NDScope.unregister(c, s);
        return new Table(c, s, temperature(windows));
    }
}
