package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Muon for the hidden matrices: Nesterov momentum, then the update is orthogonalised by 5 Newton–Schulz iterations
 * (quintic, coefficients 3.4445, −4.7750, 2.0315) on the Frobenius-normalised matrix (ε in the norm), scaled by
 * √max(1, out/in) as in modded-nanogpt and Levanter.
 * Runs with autograd off (after the gradient collector closes), in place on the weights.
 */
final class Muon {

    static final double A = 3.4445;
    static final double B = -4.7750;
    static final double C = 2.0315;
    static final int STEPS = 5;

    private final double weightDecay;
    private final double eps;
    private final Map<String, NDArray> momentum = new LinkedHashMap<>();

    Muon(double weightDecay, double eps) {
        this.weightDecay = weightDecay;
        this.eps = eps;
    }

    void step(String name, NDArray weight, NDArray grad, double lr, double beta) {
        NDArray buf = momentum.computeIfAbsent(name, k -> {
            NDArray z = weight.zerosLike();
            NDScope.unregister(z);
            return z;
        });
        buf.muli(beta).addi(grad.mul(1 - beta));             // buf ← β·buf + (1−β)·g
        NDArray update = grad.mul(1 - beta).add(buf.mul(beta)); // Nesterov: look one step ahead
        NDArray ortho = newtonSchulz(update, eps);
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
    static NDArray newtonSchulz(NDArray g, double eps) {
        boolean tall = g.getShape().get(0) > g.getShape().get(1);
        NDArray x = tall ? g.transpose() : g;
        x = x.div(x.norm().add(eps));
        for (int i = 0; i < STEPS; i++) {
            NDArray a = x.matMul(x.transpose());
            NDArray b = a.mul(B).add(a.matMul(a).mul(C));
            x = x.mul(A).add(b.matMul(x));
        }
        return tall ? x.transpose() : x;
    }

    Map<String, NDArray> state() {
        return momentum;
    }
}
