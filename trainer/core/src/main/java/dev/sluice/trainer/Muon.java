package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Muon for the hidden matrices: Nesterov momentum, then the update is orthogonalised by 5 Newton–Schulz iterations
 * of the quintic polynomial aX + b(XXᵀ)X + c(XXᵀ)²X on the Frobenius-normalised matrix (ε in the norm), scaled by
 * √max(1, out/in) as in modded-nanogpt and Levanter. Runs with autograd off (after the gradient collector closes),
 * in place on the weights.
 */
final class Muon {

    static final int STEPS = 5;

    /** The (a, b, c) of each Newton–Schulz step; a schedule shorter than {@link #STEPS} repeats cyclically. */
    enum Coefficients {
        /** One fixed triple, every step: modded-nanogpt's, and Levanter's before it had a choice. */
        SIMPLE(new double[][] {{3.4445, -4.7750, 2.0315}}),
        /** A five-step schedule (NVIDIA Emerging-Optimizers'), Levanter's default since it had a choice. */
        QUINTIC(new double[][] {{4.0848, -6.8946, 2.9270}, {3.9505, -6.3029, 2.6377}, {3.7418, -5.5913, 2.3037},
                {2.8769, -3.1427, 1.2046}, {2.8366, -3.0525, 1.2012}});

        final double[][] abc;

        Coefficients(double[][] abc) {
            this.abc = abc;
        }

        static Coefficients named(String name) {
            return valueOf(name.toUpperCase(java.util.Locale.ROOT));
        }
    }

    private final double weightDecay;
    private final double eps;
    private final Coefficients coefficients;
    private final Map<String, NDArray> momentum = new LinkedHashMap<>();

    Muon(double weightDecay, double eps, Coefficients coefficients) {
        this.weightDecay = weightDecay;
        this.eps = eps;
        this.coefficients = coefficients;
    }

    void step(String name, NDArray weight, NDArray grad, double lr, double beta) {
        NDArray buf = momentum.computeIfAbsent(name, k -> {
            NDArray z = weight.zerosLike();
            NDScope.unregister(z);
            return z;
        });
        buf.muli(beta).addi(grad.mul(1 - beta));             // buf ← β·buf + (1−β)·g
        NDArray update = grad.mul(1 - beta).add(buf.mul(beta)); // Nesterov: look one step ahead
        NDArray ortho = newtonSchulz(update, eps, coefficients);
        // Weights are stored [in, out] (x·W), so out/in is cols/rows: the up projection gets √(ratio), the down 1.
        long in = weight.getShape().get(0);
        long out = weight.getShape().get(1);
        double scale = scale(in, out);
        if (weightDecay > 0) {
            weight.muli(1 - lr * weightDecay);
        }
        weight.subi(ortho.mul(lr * scale));
    }

    /** The update's scale for a matrix mapping {@code in} to {@code out} features: √max(1, out/in). */
    static double scale(long in, long out) {
        return Math.sqrt(Math.max(1.0, (double) out / in));
    }

    /** The orthogonal factor of g (UVᵀ of its SVD, approximately), by the quintic Newton–Schulz iteration. */
    static NDArray newtonSchulz(NDArray g, double eps, Coefficients coefficients) {
        boolean tall = g.getShape().get(0) > g.getShape().get(1);
        NDArray x = tall ? g.transpose() : g;
        x = x.div(x.norm().add(eps));
        for (int i = 0; i < STEPS; i++) {
            double[] abc = coefficients.abc[i % coefficients.abc.length];
            NDArray a = x.matMul(x.transpose());
            NDArray b = a.mul(abc[1]).add(a.matMul(a).mul(abc[2]));
            x = x.mul(abc[0]).add(b.matMul(x));
        }
        return tall ? x.transpose() : x;
    }

    Map<String, NDArray> state() {
        return momentum;
    }
}
