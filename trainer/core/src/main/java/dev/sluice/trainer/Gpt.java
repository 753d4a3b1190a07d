package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The speedrun GPT, read top to bottom like nanoGPT's model.py: token embedding → (RMSNorm) → blocks of
 * [residual mix → attention → ReLU² MLP] → backout → RMSNorm → lm_head → (soft-cap). Weights are plain NDArrays
 * in {@link #parameters()}; the optimizers update them in place.
 */
public final class Gpt implements AutoCloseable {

    /** Which optimizer group a parameter belongs to. */
    public enum Group { MUON, EMBEDDING, LM_HEAD, SCALAR }

    /** A named weight and its optimizer group. */
    public record Param(String name, NDArray value, Group group) {}

    /**
     * A training pass: {@code loss}, the mean nats per token (a float64 scalar outside autograd), and
     * {@code backward}, the scalar whose backward pass gives every parameter its gradient of scale × loss.
     */
    public record Pass(NDArray loss, NDArray backward) {}

    private final ModelConfig config;
    private final NDManager manager;
    private final Precision precision;
    private final DataType dtype;
    private final boolean bfloat16;
    private final boolean nativeBfloat16;
    private final boolean sdpa;
    private final Map<String, Param> params = new LinkedHashMap<>();
    private final Constants c;
    private final Map<Integer, NDArray> masks = new HashMap<>();
    private final Map<Integer, NDArray> visible = new HashMap<>();
    private final Map<String, AttentionSchedule> schedules = new HashMap<>();
    private final LmHeadLoss lmHeadLoss;

    /** Builds a model with weights drawn from {@code seed} (the same seed gives the same weights on any device). */
    public Gpt(ModelConfig config, NDManager manager, DataType dtype, long seed) {
        this(config, manager, Precision.of(dtype), seed);
    }

    /** As above, holding and computing as {@code precision} says. */
    public Gpt(ModelConfig config, NDManager manager, Precision precision, long seed) {
        this(config, manager, precision, seed, LmHeadLoss.CHUNK_ELEMENTS);
    }

    /** As above, with the chunked loss's logits at most {@code chunkElements} per chunk (small in tests). */
    Gpt(ModelConfig config, NDManager manager, Precision precision, long seed, long chunkElements) {
        DataType dtype = precision.master();
        boolean bfloat16 = precision.bfloat16();
        this.precision = precision;
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.bfloat16 = bfloat16;
        this.nativeBfloat16 = bfloat16 && (manager.getDevice().isGpu() || Torch.cpuHasFastBfloat16());
        this.sdpa = config.attention().equals("sdpa");
        if (bfloat16 || sdpa || config.loss().equals("chunked")) {
            Torch.load(); // the bridge to libtorch's full API: casts, fused attention, the chunked loss
        }
        this.c = new Constants(manager, dtype);
        this.lmHeadLoss = new LmHeadLoss(manager, dtype, !bfloat16 ? MemoryPlan.Compute.MASTER
                : nativeBfloat16 ? MemoryPlan.Compute.BFLOAT16 : MemoryPlan.Compute.EMULATED_BFLOAT16,
                config.logitSoftcap(), chunkElements);
        Init init = new Init(seed);
        Init.Scheme scheme = Init.Scheme.named(config.init());
        int d = config.dModel();
        int layers = config.nLayers();
        add("wte", init.embedding(scheme, config.vocabSize(), d), Group.EMBEDDING);
        for (int l = 0; l < layers; l++) {
            String p = "h." + l + ".";
            add(p + "attn.wq", init.linear(scheme, d, config.attnDim()), Group.MUON);
            add(p + "attn.wk", init.linear(scheme, d, config.attnDim()), Group.MUON);
            add(p + "attn.wv", init.linear(scheme, d, config.attnDim()), Group.MUON);
            add(p + "attn.wo", config.zeroInit() ? init.zeros(config.attnDim(), d)
                    : init.residualOutput(scheme, config.attnDim(), d, layers), Group.MUON);
            add(p + "mlp.w_up", init.linear(scheme, d, config.mlpDim()), Group.MUON);
            add(p + "mlp.w_down", config.zeroInit() ? init.zeros(config.mlpDim(), d)
                    : init.residualOutput(scheme, config.mlpDim(), d, layers), Group.MUON);
            if (config.residualMix()) {
                add(p + "lambda_x", init.constant(1.1), Group.SCALAR);
                add(p + "lambda_x0", init.constant(0.0), Group.SCALAR);
            }
        }
        if (config.backout()) {
            add("lambda_backout", init.constant(0.5), Group.SCALAR);
        }
        // stored [V, d] like nn.Linear's weight: autograd then computes its gradient as dlogitsᵀ·h, a shape MKL runs
        // ~15% faster on CPU than hᵀ·dlogits (0.143 vs 0.171 s for tiny's [2048 x 128] x [128 x 50304])
        add("lm_head", config.zeroInit() ? init.zeros(config.vocabSize(), d)
                : init.linear(scheme, d, config.vocabSize()).transposed(), Group.LM_HEAD);
    }

    private void add(String name, Init.Values v, Group group) {
        NDArray a = v.toArray(manager, dtype);
        a.setRequiresGradient(true);
        params.put(name, new Param(name, a, group));
    }

    public ModelConfig config() {
        return config;
    }

    public List<Param> parameters() {
        return new ArrayList<>(params.values());
    }

    public NDArray param(String name) {
        return params.get(name).value();
    }

    /**
     * Logits for {@code tokens} [B, T] (int64), under the attention windows and rotary table the schedules give
     * for the current step. With the soft-cap these are cap·tanh(z/cap).
     */
    public NDArray forward(NDArray tokens, AttentionSchedule schedule) {
        NDArray logits = logitsUpToShift(tokens, schedule);
        return config.logitSoftcap() > 0 ? logits.sub(c.of(config.logitSoftcap())) : logits;
    }

    /**
     * The logits plus a constant the softmax ignores. The soft-cap cap·tanh(z/cap) equals 2cap·σ(2z/cap) − cap
     * (modded-nanogpt's later form), and dropping the −cap leaves the softmax unchanged. The sigmoid form is the fast
     * one here: PyTorch's CPU sigmoid takes 0.019 s on [2048, 50304] logits where its MKL tanh takes 0.11 s, and
     * the logits are the largest tensor of the step. The 2/cap is applied on the narrow [B,T,d] side of the matmul.
     */
    private NDArray logitsUpToShift(NDArray tokens, AttentionSchedule schedule) {
        NDArray x = hidden(tokens, schedule);
        if (config.logitSoftcap() <= 0) {
            return matMul(x, param("lm_head").transpose()); // [B,T,V]
        }
        double cap = config.logitSoftcap();
        return matMul(x.mul(c.of(2 / cap)), param("lm_head").transpose())
                .getNDArrayInternal().sigmoid().mul(c.of(2 * cap));
    }

    /** The residual stream after the last block, backout and the final RMSNorm: [B, T, d]. */
    private NDArray hidden(NDArray tokens, AttentionSchedule schedule) {
        NDArray x = tokens.getNDArrayInternal()
                .embedding(tokens, param("wte"), ai.djl.ndarray.types.SparseFormat.DENSE).singletonOrThrow(); // [B,T,d]
        if (config.normAfterEmbedding()) {
            x = rmsNorm(x);
        }
        NDArray x0 = x;
        NDArray backoutState = null;
        for (int l = 0; l < config.nLayers(); l++) {
            String p = "h." + l + ".";
            NDArray in = x;
            int layer = l;
            x = keepingOnlyResult(() -> block(config.residualMix()
                    ? param(p + "lambda_x").mul(in).add(param(p + "lambda_x0").mul(x0)) : in, layer, schedule));
            if (config.backout() && l == config.backoutLayers() - 1) {
                backoutState = x;
            }
        }
        if (config.backout()) {
            x = x.sub(param("lambda_backout").mul(backoutState));
        }
        return rmsNorm(x);
    }

    /** One block on the residual stream: x + attn(norm(x)), then + mlp(norm(x)). Identity at zero init. */
    NDArray block(NDArray x, int layer, AttentionSchedule schedule) {
        x = x.add(attention(rmsNorm(x), layer, schedule));
        return x.add(mlp(rmsNorm(x), layer));
    }

    private NDArray attention(NDArray h, int layer, AttentionSchedule schedule) {
        String p = "h." + layer + ".attn.";
        long b = h.getShape().get(0);
        long t = h.getShape().get(1);
        NDArray q = heads(matMul(h, param(p + "wq")), b, t);
        NDArray k = heads(matMul(h, param(p + "wk")), b, t);
        NDArray v = heads(matMul(h, param(p + "wv")), b, t);
        if (config.qkNorm()) {
            q = rmsNorm(q);
            k = rmsNorm(k);
        }
        Rope.Table rope = schedule.rope();
        q = rope.apply(q);
        k = rope.apply(k);
        int window = schedule.windows()[layer];
        NDArray y = sdpa ? fusedAttention(q, k, v, (int) t, window, schedule.attnScale())
                : plainAttention(q, k, v, (int) t, window, schedule.attnScale()); // [B,H,T,hd]
        return matMul(y.transpose(0, 2, 1, 3).reshape(b, t, config.attnDim()), param(p + "wo"));
    }

    /** Attention as four ops; materialises the [B, H, T, T] scores. */
    private NDArray plainAttention(NDArray q, NDArray k, NDArray v, int t, int window, double scale) {
        NDArray scores = matMul(q, k.transpose(0, 1, 3, 2)).mul(c.of(scale)); // [B,H,T,T]
        return matMul(scores.add(mask(t, window)).softmax(-1), v);
    }

    /** The same attention through libtorch's fused kernel: causal, or under the window's visibility mask. */
    private NDArray fusedAttention(NDArray q, NDArray k, NDArray v, int t, int window, double scale) {
        NDArray mask = window >= t ? null : visible(t, window);
        return fromCompute(Torch.scaledDotProductAttention(toCompute(q), toCompute(k), toCompute(v), mask, scale));
    }

    /** a·b in the compute precision. */
    private NDArray matMul(NDArray a, NDArray b) {
        return fromCompute(toCompute(a).matMul(toCompute(b)));
    }

    /**
     * An operand of a matmul or of attention in the compute precision. Under bfloat16 it is cast to bf16 (a master
     * weight on the fly, as an op autograd records, so its gradient arrives in the master dtype) and the result cast
     * back by {@link #fromCompute}, so norms, softmax statistics and the residual stream stay in the master dtype.
     * On a CPU without a fast bf16 GEMM (whose bf16 attention backward is as slow) the same numbers come from
     * operands rounded to bf16 but kept in float32 ({@link Torch#roundToBfloat16}).
     */
    private NDArray toCompute(NDArray x) {
        return !bfloat16 ? x : nativeBfloat16 ? Torch.cast(x, true) : Torch.roundToBfloat16(x);
    }

    /** A result of {@link #toCompute}'s operands, back in the master dtype (rounded as a bf16 result would be). */
    private NDArray fromCompute(NDArray y) {
        return !bfloat16 ? y : nativeBfloat16 ? Torch.cast(y, false) : Torch.roundToBfloat16(y);
    }

    /** Whether bf16 matmuls run as bf16 GEMMs (false: emulated in float32, see {@link #matMul}). */
    public boolean nativeBfloat16() {
        return nativeBfloat16;
    }

    private NDArray heads(NDArray x, long b, long t) {
        return x.reshape(b, t, config.nHeads(), config.headDim()).transpose(0, 2, 1, 3);
    }

    private NDArray mlp(NDArray h, int layer) {
        String p = "h." + layer + ".mlp.";
        NDArray up = matMul(h, param(p + "w_up"));
        NDArray act = config.reluSquared() ? up.getNDArrayInternal().relu().square() : gelu(up);
        return matMul(act, param(p + "w_down"));
    }

    private NDArray gelu(NDArray x) {
        return x.getNDArrayInternal().gelu();
    }

    /**
     * Runs {@code part} in its own scope and closes every array it made but its result. DJL would hold each
     * intermediate until the step's scope closes; autograd keeps only what the backward pass reads (the scaled and
     * masked attention scores, the logits before log-softmax and most rotary products are not), so this lowers the
     * peak by those. Closing a handle autograd saved is safe: the tensor lives on until backward releases it.
     */
    private static NDArray keepingOnlyResult(Supplier<NDArray> part) {
        NDArray result;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            result = part.get();
            NDScope.unregister(result);
        }
        NDScope.register(result);
        return result;
    }

    /** RMSNorm without weight over the last axis, eps 1e-5. */
    NDArray rmsNorm(NDArray x) {
        NDArray meanSquare = x.square().mean(new int[] {-1}, true);
        return x.div(meanSquare.add(c.of(1e-5)).sqrt());
    }

    /** Additive causal mask: 0 where key j is visible from query i (j ≤ i, i − j < window), −∞ elsewhere. */
    private NDArray mask(int t, int window) {
        int key = t * 1_000_003 + Math.min(window, t);
        return masks.computeIfAbsent(key, k -> {
            float[] m = new float[t * t];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    m[i * t + j] = j <= i && i - j < window ? 0f : Float.NEGATIVE_INFINITY;
                }
            }
            NDArray a = manager.create(m, new Shape(t, t)).toType(dtype, false);
            NDScope.unregister(a); // model-lifetime cache, even when first built inside a step's scope
            return a;
        });
    }

    /** The same visibility as {@link #mask}, as booleans for the fused kernel (true: key j is visible from i). */
    private NDArray visible(int t, int window) {
        return visible.computeIfAbsent(t * 1_000_003 + window, k -> {
            boolean[] m = new boolean[t * t];
            for (int i = 0; i < t; i++) {
                for (int j = Math.max(0, i - window + 1); j <= i; j++) {
                    m[i * t + j] = true;
                }
            }
            NDArray a = manager.create(m, new Shape(t, t));
            NDScope.unregister(a);
            return a;
        });
    }

    /**
     * Mean cross-entropy (nats) of predicting {@code rows}[:, 1:] from {@code rows}[:, :-1]; {@code rows} is
     * [B, T+1] int64. Through autograd on the whole logits whatever {@code model.loss} says: the reference that
     * {@link #pass} is tested against.
     */
    public NDArray loss(NDArray rows, AttentionSchedule schedule) {
        return tokenLossesOfWholeLogits(rows, schedule).mean();
    }

    /**
     * The training pass over {@code rows} [B, T+1] whose backward gives the gradients of {@code scale} × the mean
     * loss: under {@code model.loss: chunked} the lm_head and the loss run in chunks outside autograd
     * ({@link LmHeadLoss}), which adds the lm_head's gradient to it at once; backward then starts from the
     * surrogate Σ dh·h, whose gradient with respect to h, the final hidden state, is exactly dh.
     */
    public Pass pass(NDArray rows, AttentionSchedule schedule, double scale) {
        if (config.loss().equals("full")) {
            NDArray l = loss(rows, schedule);
            return new Pass(l.toType(DataType.FLOAT64, false), scale == 1 ? l : l.mul(c.of(scale)));
        }
        NDArray h = hiddenRows(rows, schedule);
        NDArray targets = targets(rows);
        long n = targets.getShape().get(0);
        LmHeadLoss.Result r = lmHeadLoss.lossAndGradients(h, param("lm_head"), targets, scale / n);
        return new Pass(r.tokenLosses().toType(DataType.FLOAT64, false).mean(), h.mul(r.dh()).sum());
    }

    /** Per-target cross-entropy in nats, [B, T]; chunked or through the whole logits as {@code model.loss} says. */
    public NDArray tokenLosses(NDArray rows, AttentionSchedule schedule) {
        if (config.loss().equals("full")) {
            return tokenLossesOfWholeLogits(rows, schedule);
        }
        return lmHeadLoss.tokenLosses(hiddenRows(rows, schedule), param("lm_head"), targets(rows))
                .reshape(rows.getShape().get(0), rows.getShape().get(1) - 1);
    }

    /** Per-target cross-entropy through autograd on the whole [B, T, V] logits. */
    private NDArray tokenLossesOfWholeLogits(NDArray rows, AttentionSchedule schedule) {
        long t = rows.getShape().get(1) - 1;
        NDArray logp = keepingOnlyResult(() -> logitsUpToShift(rows.get(":, 0:" + t), schedule).logSoftmax(-1));
        return logp.gather(rows.get(":, 1:").expandDims(-1), -1).squeeze(-1).neg();
    }

    /** The final hidden state of every input position of {@code rows}, [B·T, d]. */
    private NDArray hiddenRows(NDArray rows, AttentionSchedule schedule) {
        long t = rows.getShape().get(1) - 1;
        return hidden(rows.get(":, 0:" + t), schedule).reshape(-1, config.dModel());
    }

    /** The targets of {@code rows}, [B·T] int64, contiguous. */
    private static NDArray targets(NDArray rows) {
        return rows.get(":, 1:").reshape(-1);
    }

    NDManager manager() {
        return manager;
    }

    /**
     * Attention windows and rotary table for a step whose long window has grown through {@code longWindows}
     * (increasing; the last is the current one), cached per history. Short windows are half the long one.
     * Without sliding windows every layer sees the whole causal context.
     */
    public AttentionSchedule schedule(int seqLen, int... longWindows) {
        int longWindow = longWindows[longWindows.length - 1];
        return schedules.computeIfAbsent(seqLen + ":" + Arrays.toString(longWindows), k -> {
            int[] windows = new int[config.nLayers()];
            for (int l = 0; l < windows.length; l++) {
                windows[l] = !config.slidingWindow() ? seqLen
                        : config.isLongWindowLayer(l) ? longWindow : Math.max(1, longWindow / 2);
            }
            int[] history = config.ropeRescale() && config.slidingWindow() ? longWindows : new int[] {longWindow};
            Rope.Table rope = Rope.table(manager, dtype, seqLen, config.headDim(), config.ropeFraction(),
                    config.ropeBase(), history);
            double scale = config.attnScale() / Math.sqrt(config.headDim()) * rope.attentionTemperature();
            return new AttentionSchedule(windows, rope, scale);
        });
    }

    Precision precision() {
        return precision;
    }

    DataType dtype() {
        return dtype;
    }

    Constants constants() {
        return c;
    }

    @Override
    public void close() {
        params.values().forEach(p -> p.value().close());
        masks.values().forEach(NDArray::close);
        visible.values().forEach(NDArray::close);
        schedules.values().forEach(s -> s.rope().close());
        lmHeadLoss.close();
        c.close();
    }
}
