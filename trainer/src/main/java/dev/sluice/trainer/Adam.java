package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with bias correction and decoupled weight decay, for the embedding, lm_head and the learned scalars (each
 * group with its own LR). Hand-written: DJL's own creates its state lazily inside the step's scope, which then
 * frees it. Runs with autograd off, in place on the weights.
 */
final class Adam {

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();

    Adam(double beta1, double beta2, double eps, double weightDecay) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /**
     * One update; {@code t} is the 1-based step count for bias correction. The corrections are folded into the step
     * size and ε (lr·√c2/c1 · m / (√v + ε√c2), the same value as lr · m̂ / (√v̂ + ε)), and every pass is in place
     * where DJL allows it: the embedding and lm_head are the largest tensors the optimizer touches.
     */
    void step(String name, NDArray weight, NDArray grad, double lr, long t) {
        NDArray mt = state(m, name, weight);
        NDArray vt = state(v, name, weight);
        mt.muli(beta1).addi(grad.mul(1 - beta1));
        vt.muli(beta2).addi(grad.square().muli(1 - beta2));
        double c1 = 1 - Math.pow(beta1, t);
        double c2 = 1 - Math.pow(beta2, t);
        NDArray update = mt.div(vt.sqrt().addi(eps * Math.sqrt(c2)));
        if (weightDecay > 0) {
            weight.muli(1 - lr * weightDecay);
        }
        weight.subi(update.muli(lr * Math.sqrt(c2) / c1));
    }

    private static NDArray state(Map<String, NDArray> map, String name, NDArray like) {
        return map.computeIfAbsent(name, k -> {
            NDArray z = like.zerosLike();
            NDScope.unregister(z);
            return z;
        });
    }

    Map<String, NDArray> firstMoments() {
        return m;
    }

    Map<String, NDArray> secondMoments() {
        return v;
    }
}
