package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The lm_head and the (soft-capped) cross-entropy without the [tokens, vocab] logits. Rows are taken a chunk at a
 * time into two buffers that live as long as the model, and each chunk's loss and gradient are finished before the
 * next chunk starts (the idea of Liger Kernel's fused linear cross-entropy). The lm_head's gradient dW is added to
 * its {@code .grad} in place, where autograd would have accumulated it; dh, the residual stream's, leaves for
 * {@link Gpt} to hand to autograd, which so never holds a logits-sized tensor. The buffers are written in place
 * every step: no logits-sized memory is mapped and unmapped per step, which on glibc's malloc means no page faults
 * on freshly zeroed pages (the cost that made the whole-logits path 8× slower without tcmalloc).
 *
 * <p>With u = h·2/cap, z = u·Wᵀ, s = σ(z) and ℓ = 2cap·s (the soft-capped logits up to a constant, see
 * {@code Gpt.logitsUpToShift}), a row's loss is logsumexp(ℓ) − ℓ[target]; its gradient dℓ = softmax(ℓ) −
 * onehot(target), dz = dℓ·2cap·s(1 − s), du = dz·W, dW = dzᵀ·u and dh = du·2/cap.
 * Without the cap ℓ = z = h·Wᵀ.
 */
final class LmHeadLoss implements AutoCloseable {

    /**
     * Elements of one chunk's logits: 256 MB in float32, 523 rows of Marin's 128,256 ids or 1,334 of GPT-2's 50,304.
     * Measured on 150m (1 × 2,048 tokens, Marin): 2^24 elements made the step's peak 56% of the whole logits' and
     * the lm_head 6.2 s, 2^26 59% and 5.9 s, 2^28 (one chunk) 71% and 5.4-5.8 s; three matmuls alone at the
     * host's matmul rate take 5.1 s.
     */
    static final long CHUNK_ELEMENTS = 1L << 26;

    /** Per-token losses (nats, [N]) and, with gradients, dh ([N, d]) of {@code scale} × their sum. */
    record Result(NDArray tokenLosses, NDArray dh) {}

    private final NDManager manager;
    private final DataType dtype;
    private final MemoryPlan.Compute compute;
    private final double cap;
    private final long chunkElements;
    private NDArray logits; // [rows, V]: a chunk's logits, then their softmax, then their gradient
    private NDArray sigmoid; // [rows, V]: σ(z), for the cap's derivative

    LmHeadLoss(NDManager manager, DataType dtype, MemoryPlan.Compute compute, double cap, long chunkElements) {
        this.manager = manager;
        this.dtype = dtype;
        this.compute = compute;
        this.cap = cap;
        this.chunkElements = chunkElements;
    }

    /** Rows per chunk for a vocabulary of {@code vocab} ids. */
    long chunkRows(long vocab) {
        return Math.max(1, chunkElements / vocab);
    }

    /** Per-token losses of {@code hidden} [N, d] under {@code weight} [V, d] against {@code targets} [N] (int64). */
    NDArray tokenLosses(NDArray hidden, NDArray weight, NDArray targets) {
        return run(hidden, weight, targets, 0, false).tokenLosses();
    }

    /**
     * The losses and dh, the gradient of {@code scale} × their sum with respect to {@code hidden}; that of
     * {@code weight} is added to its gradient.
     */
    Result lossAndGradients(NDArray hidden, NDArray weight, NDArray targets, double scale) {
        return run(hidden, weight, targets, scale, true);
    }

    private Result run(NDArray hidden, NDArray weight, NDArray targets, double scale, boolean gradients) {
        long n = hidden.getShape().get(0);
        long d = hidden.getShape().get(1);
        long v = weight.getShape().get(0);
        long rows = Math.min(n, chunkRows(v));
        ensureBuffers(rows, v);
        NDArray losses = manager.zeros(new Shape(n), dtype);
        NDArray dh = gradients ? manager.zeros(new Shape(n, d), dtype) : null;
        // every JavaCPP result made here is freed when the scope closes; what leaves was made by DJL above
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Tensor h = Torch.view(hidden).detach();
            Tensor w = operand(Torch.view(weight).detach());
            Tensor u = operand(cap > 0 ? h.mul(new Scalar(2 / cap)) : h);
            Tensor wt = w.t();
            Tensor t = Torch.view(targets);
            Tensor lossView = Torch.view(losses);
            Tensor dw = gradients ? gradientOf(Torch.view(weight)) : null;
            for (long r0 = 0; r0 < n; r0 += rows) {
                long r = Math.min(rows, n - r0);
                Tensor uChunk = u.narrow(0, r0, r);
                Tensor index = t.narrow(0, r0, r).unsqueeze(1); // [r, 1]
                Tensor z = Torch.view(logits).narrow(0, 0, r);
                Tensor s = cap > 0 ? Torch.view(sigmoid).narrow(0, 0, r) : null;
                product(z, uChunk, wt);
                if (cap > 0) {
                    s.copy_(z.sigmoid_());
                    z.mul_(new Scalar(2 * cap)); // ℓ
                }
                Tensor target = z.gather(1, index); // [r, 1]
                // soft-capped logits lie in (0, 2cap): for cap ≤ 30 even V·e^(2cap) is far inside float32's
                // range, so the row maxima (a pass over the chunk) are needed only without the cap
                Tensor max = cap > 0 && cap <= 30 ? null : z.amax(new long[] {1}, true);
                if (max != null) {
                    z.sub_(max);
                }
                Tensor sum = z.exp_().sum(new long[] {1}, true, new ScalarTypeOptional()); // [r, 1]
                Tensor lse = max == null ? sum.log() : sum.log().add_(max);
                lossView.narrow(0, r0, r).copy_(lse.sub_(target).squeeze(1));
                if (!gradients) {
                    continue;
                }
                // z holds exp(ℓ − max): one multiply makes it scale·softmax (times 2cap, the cap's outer factor)
                double factor = cap > 0 ? scale * 2 * cap : scale;
                z.mul_(sum.reciprocal_().mul_(new Scalar(factor)));
                z.scatter_(1, index, z.gather(1, index).sub_(new Scalar(factor)));
                if (cap > 0) {
                    z.mul_(s).addcmul_(z, s, new Scalar(-1)); // · s(1 − s), σ's derivative
                }
                Tensor g = operand(z);
                product(Torch.view(dh).narrow(0, r0, r), g, w);
                if (compute == MemoryPlan.Compute.MASTER) {
                    dw.addmm_(g.t(), uChunk);
                } else {
                    dw.add_(result(g.t().mm(uChunk)));
                }
            }
            if (gradients && cap > 0) {
                Torch.view(dh).mul_(new Scalar(2 / cap));
            }
        }
        return new Result(losses, dh);
    }

    /** The gradient {@code weight} accumulates into, made (zeros) if the weight has none yet. */
    private static Tensor gradientOf(Tensor weight) {
        Tensor grad = weight.grad();
        if (!grad.defined()) {
            weight.mutable_grad().put(torch.zeros_like(weight));
            grad = weight.grad();
        }
        return grad;
    }

    /** out = a·b in the compute precision, written into {@code out} (master dtype). */
    private void product(Tensor out, Tensor a, Tensor b) {
        if (compute == MemoryPlan.Compute.BFLOAT16) {
            out.copy_(a.mm(b)); // a bf16 GEMM, widened on the copy
        } else {
            torch.mm_out(out, a, b);
            if (compute == MemoryPlan.Compute.EMULATED_BFLOAT16) {
                out.copy_(out.to(torch.ScalarType.BFloat16)); // a bf16 GEMM's rounded result
            }
        }
    }

    /** An operand of a matmul in the compute precision (see {@code Gpt.toCompute}). */
    private Tensor operand(Tensor x) {
        return switch (compute) {
            case MASTER -> x;
            case BFLOAT16 -> x.to(torch.ScalarType.BFloat16);
            case EMULATED_BFLOAT16 -> x.to(torch.ScalarType.BFloat16).to(torch.ScalarType.Float);
        };
    }

    /** A product of compute-precision operands, as the master dtype. */
    private Tensor result(Tensor y) {
        return switch (compute) {
            case MASTER -> y;
            case BFLOAT16 -> y.to(torch.ScalarType.Float);
            case EMULATED_BFLOAT16 -> y.to(torch.ScalarType.BFloat16).to(torch.ScalarType.Float);
        };
    }

    /** Buffers for {@code rows} rows of {@code v} logits, kept for the model's life, grown when a pass needs more. */
    private void ensureBuffers(long rows, long v) {
        if (logits != null && logits.getShape().get(0) >= rows && logits.getShape().get(1) == v) {
            return;
        }
        close();
        logits = manager.create(new Shape(rows, v), dtype);
        NDScope.unregister(logits); // model-lifetime, even when first made inside a step's scope
        if (cap > 0) {
            sigmoid = manager.create(new Shape(rows, v), dtype);
            NDScope.unregister(sigmoid);
        }
    }

    /** Bytes the buffers hold for a pass of {@code tokens} rows over {@code v} ids ({@link MemoryPlan}). */
    static long bufferBytes(long tokens, long v, double cap, long elementBytes) {
        long rows = Math.min(tokens, Math.max(1, CHUNK_ELEMENTS / v));
        return (cap > 0 ? 2 : 1) * rows * v * elementBytes;
    }

    @Override
    public void close() {
        if (logits != null) {
            logits.close();
            logits = null;
        }
        if (sigmoid != null) {
            sigmoid.close();
            sigmoid = null;
        }
    }
}
