package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

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
    private NDArray scratch; // √v + ε of the parameter being updated

    Adam(double beta1, double beta2, double eps, double weightDecay) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        Torch.load();
    }

    /**
     * One update; {@code t} is the 1-based step count for bias correction. The corrections are folded into the step
     * size and ε (lr·√c2/c1 · m / (√v + ε√c2), the same value as lr · m̂ / (√v̂ + ε)). Every pass is in place
     * (libtorch's fused add, addcmul and addcdiv) and √v goes to one scratch buffer kept across steps: the embedding
     * and lm_head are the largest tensors the optimizer touches, and a fresh temporary of their size per step is
     * memory the system allocator maps and zeroes anew each time.
     */
    void step(String name, NDArray weight, NDArray grad, double lr, long t, boolean decay) {
        NDArray mt = state(m, name, weight);
        NDArray vt = state(v, name, weight);
        double c1 = 1 - Math.pow(beta1, t);
        double c2 = 1 - Math.pow(beta2, t);
        try (PointerScope scope = new PointerScope()) {
            Tensor w = Torch.view(weight);
            Tensor g = Torch.view(grad);
            Tensor m1 = Torch.view(mt);
            Tensor v2 = Torch.view(vt);
            m1.mul_(new Scalar(beta1)).add_(g, new Scalar(1 - beta1));
            v2.mul_(new Scalar(beta2)).addcmul_(g, g, new Scalar(1 - beta2));
            Tensor denominator = scratch(weight);
            torch.sqrt_out(denominator, v2).add_(new Scalar(eps * Math.sqrt(c2)));
            if (decay && weightDecay > 0) {
                w.mul_(new Scalar(1 - lr * weightDecay));
            }
            w.addcdiv_(m1, denominator, new Scalar(-lr * Math.sqrt(c2) / c1));
        }
    }

    /** A view of the scratch buffer shaped like {@code like}, the buffer grown to the largest parameter seen. */
    private Tensor scratch(NDArray like) {
        long size = like.size();
        if (scratch == null || scratch.size() < size) {
            if (scratch != null) {
                scratch.close();
            }
            scratch = like.getManager().create(new ai.djl.ndarray.types.Shape(size), like.getDataType());
            NDScope.unregister(scratch);
        }
        return Torch.view(scratch).narrow(0, 0, size).view(like.getShape().getShape());
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
