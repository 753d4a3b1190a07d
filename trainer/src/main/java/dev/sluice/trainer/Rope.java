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
 * still. When the attention window grows by a factor s, YaRN-style rescaling slows the low frequencies (those
 * whose wavelength exceeds the original window) by s and raises the attention temperature by 0.1·ln s + 1.
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

    static double[] frequencies(int headDim, double fraction, double base, double growth, int originalWindow) {
        int pairs = headDim / 2;
        int rotating = (int) Math.round(fraction * pairs);
        double[] f = new double[pairs];
        for (int j = 0; j < rotating; j++) {
            f[j] = rotating == 1 ? 1.0 : Math.pow(1.0 / base, (double) j / (rotating - 1));
            if (growth > 1) {
                double rotations = originalWindow * f[j] / (2 * Math.PI); // turns within the original window
                double alpha = 1;
                double beta = 32;
                double keep = Math.min(1, Math.max(0, (rotations - alpha) / (beta - alpha)));
                f[j] = keep * f[j] + (1 - keep) * f[j] / growth;
            }
        }
        return f;
    }

    static Table table(NDManager manager, DataType dtype, int seqLen, int headDim, double fraction, double base,
                       double growth, int originalWindow) {
        double[] f = frequencies(headDim, fraction, base, growth, originalWindow);
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
        double temperature = growth > 1 ? 0.1 * Math.log(growth) + 1 : 1;
        return new Table(c, s, temperature);
    }
}
