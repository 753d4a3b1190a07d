package dev.sluice.trainer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The peak device memory of a training step, by part, predicted from the config the way {@link Gpt} and the
 * optimizers allocate: the model state lives all run; a micro-batch's forward pass leaves behind what autograd saves
 * for backward (each block closes the rest, see {@code Gpt.keepingOnlyResult}); the lm_head and the loss add their
 * chunk buffers ({@code model.loss: chunked}) or, through the whole logits, a few logits-sized tensors. The
 * optimizer update runs after the micro-batches'
 * memory is freed, so the peak is the larger of the two phases.
 *
 * @param micro sequences per forward/backward pass
 * @param elementBytes 4 for float32 (and bfloat16's master weights), 8 for float64
 * @param computeCopies under bfloat16 compute, the matmul operands' copies autograd saves (bf16, or float32 where
 *     bf16 GEMMs are emulated); 0 otherwise
 */
public record MemoryPlan(ModelConfig model, int micro, int elementBytes, long weights, long gradients,
                         long optimizerState, long activations, long attentionScores, long logits,
                         long computeCopies, long updateScratch) {

    /** How matmul operands are held under {@code train.dtype}: not copied, bf16 copies, or rounded float32 copies. */
    public enum Compute { MASTER, BFLOAT16, EMULATED_BFLOAT16 }

    /** The plan for {@code config} at {@code micro} sequences per pass, in the config's dtype on its device. */
    public static MemoryPlan of(SpeedrunConfig config, int micro) {
        String dtype = config.train().dtype();
        Compute compute = !dtype.equals("bfloat16") ? Compute.MASTER
                : Devices.parse(config.train().device()).isGpu() || Torch.cpuHasFastBfloat16() ? Compute.BFLOAT16
                : Compute.EMULATED_BFLOAT16;
        return of(config.model(), config.seqLen(), micro, dtype.equals("float64") ? 8 : 4, compute);
    }

    static MemoryPlan of(ModelConfig m, int seqLen, int micro, int elementBytes) {
        return of(m, seqLen, micro, elementBytes, Compute.MASTER);
    }

    static MemoryPlan of(ModelConfig m, int seqLen, int micro, int elementBytes, Compute compute) {
        long e = elementBytes;
        long d = m.dModel();
        long v = m.vocabSize();
        long params = m.parameters();
        long embedding = v * d;
        long adamParams = 2 * embedding + m.scalarParameters();
        long muonParams = params - adamParams;

        long bt = (long) micro * seqLen;
        // per block, saved for backward: the normalised inputs of both sublayers and their residual streams (plus
        // the λ-mixed input), q and k before and after the norm and rotation, v, the heads' output, relu and its
        // square (or GELU's input and output), and one RMS per normalised row
        long blockD = (m.residualMix() ? 5 : 4) * bt * d;
        long blockA = (m.qkNorm() ? 6 : 4) * bt * m.attnDim();
        long blockM = 2 * bt * m.mlpDim();
        long blockRms = 2 * bt + (m.qkNorm() ? 2L * bt * m.nHeads() : 0);
        // outside the blocks: x0, the embedding before its norm, the final norm's output and the soft-cap's scaled
        // input; the causal masks (short and long window) and the rotary table are cached for the run
        long outer = bt * d * (2 + (m.normAfterEmbedding() ? 1 : 0) + (m.logitSoftcap() > 0 ? 1 : 0));
        long cached = 2L * seqLen * seqLen + (long) seqLen * m.headDim();
        long activations = e * (m.nLayers() * (blockD + blockA + blockM + blockRms) + outer + cached);
        // plain: the softmax of each layer's [B, H, T, T] scores is saved, the scaled and masked scores are freed;
        // fused: the kernel saves its output and one float32 log-sum-exp per query row
        long scores = m.attention().equals("plain")
                ? e * m.nLayers() * micro * m.nHeads() * (long) seqLen * seqLen
                : m.nLayers() * (e * bt * m.attnDim() + 4L * micro * m.nHeads() * seqLen);
        long copies = 0;
        if (compute != Compute.MASTER) {
            // each matmul saves its cast operands instead of the master-precision ones: the weights (hidden
            // matrices and lm_head), per block the normalised input three times (q, k, v), the heads' output, the
            // MLP's normalised input and its activation; fused attention saves its cast q, k, v and output in
            // place of the float32 ones
            long c = compute == Compute.BFLOAT16 ? 2 : 4;
            long perBlock = c * (4 * bt * d + bt * m.attnDim() + bt * m.mlpDim())
                    - e * (2 * bt * d + bt * m.attnDim() + bt * m.mlpDim())
                    + (m.attention().equals("plain") ? 0 : (c - e) * 4 * bt * m.attnDim());
            // and the logits pass through the cast once more: while the product becomes its rounded copy, the
            // product and its bf16 form are alive beside it (the product is bf16 already when bf16 is native)
            // (chunked: the lm_head's input is cast once per pass and each chunk's product passes through bf16)
            long logitsCast = m.loss().equals("full") ? (compute == Compute.BFLOAT16 ? 2 : 4 + 2) * bt * v
                    : c * bt * d + LmHeadLoss.bufferBytes(bt, v, 0, 2);
            copies = c * (muonParams + embedding) + m.nLayers() * perBlock + logitsCast;
        }
        long btv = bt * v;
        long logits;
        if (m.loss().equals("full")) {
            // log-softmax output (and the soft-cap's sigmoid) saved, then at backward's start two logits-sized
            // gradients in flight; the lm_head gradient is computed whole before it is added to the accumulated one
            logits = e * ((m.logitSoftcap() > 0 ? 4 : 3) * btv + embedding);
        } else {
            // the chunk buffers (LmHeadLoss, kept all run), dh, and at backward's end the embedding's dense
            // gradient, made whole before it is added to the accumulated one
            logits = LmHeadLoss.bufferBytes(bt, v, m.logitSoftcap(), e) + e * (bt * d + embedding);
        }
        // Adam's √v + ε goes to one scratch buffer the size of the largest Adam parameter, kept all run (in the
        // state); Muon's update holds the Nesterov update, its normalised copy and the Newton–Schulz products
        long largestMatrix = Math.max(d * m.mlpDim(), d * m.attnDim());
        long scratch = e * 6 * largestMatrix;
        return new MemoryPlan(m, micro, elementBytes, e * params, e * params,
                e * (2 * adamParams + muonParams + Math.max(embedding, m.scalarParameters())),
                activations, scores, logits, copies, scratch);
    }

    /** Model state: weights, their gradients and the optimizers' moments. */
    public long state() {
        return weights + gradients + optimizerState;
    }

    /** The step's peak: the state plus the larger of a forward/backward pass and the optimizer update. */
    public long peak() {
        return state() + Math.max(activations + attentionScores + logits + computeCopies, updateScratch);
    }

    /**
     * How many replicas of the model ({@code train.devices}) share one memory: on the CPU all of them live in the
     * host's memory; each GPU holds its own.
     */
    public static int replicasSharingMemory(TrainConfig train) {
        return train.devices().isEmpty() || Devices.parse(train.device()).isGpu() ? 1 : train.devices().size();
    }

    /**
     * The peak of the memory the master replica lives in: {@link #peak()} plus, where {@code sharing} replicas share
     * it, each further replica's weights and gradients (no optimizer state: the master alone updates). The passes
     * run one at a time there, so one pass's activations are alive at once. On a GPU the master's card holds the
     * largest peak of any replica's.
     */
    public long peak(int sharing) {
        return peak() + (sharing - 1) * (weights + gradients);
    }

    /** The peak of the master's memory for {@code config} at {@code micro} sequences per pass. */
    public static long peakOnDevice(SpeedrunConfig config, int micro) {
        return of(config, micro).peak(replicasSharingMemory(config.train()));
    }

    /**
     * Sequences in one replica's pass when the micro-batch is left to whole steps: the largest batch dealt over the
     * listed devices ({@code gpu:*} counts as one, since how many GPUs it means is known only on the host).
     */
    public static int largestPass(TrainConfig train) {
        int largest = train.batchSchedule().stream().mapToInt(Integer::intValue).max().orElse(1);
        int replicas = train.devices().isEmpty() || train.devices().contains(Devices.ALL_GPUS) ? 1
                : train.devices().size();
        return (largest + replicas - 1) / replicas;
    }

    /** The parts in print order, in bytes. */
    public Map<String, Long> parts() {
        Map<String, Long> parts = new LinkedHashMap<>();
        parts.put("weights", weights);
        parts.put("gradients", gradients);
        parts.put("optimizer state", optimizerState);
        parts.put("activations", activations);
        parts.put("attention scores", attentionScores);
        parts.put("logits", logits);
        parts.put("compute copies", computeCopies);
        parts.put("update scratch", updateScratch);
        return parts;
    }

    /**
     * The largest micro-batch, at most a replica's share of the largest batch ({@link #largestPass}), whose peak
     * ({@link #peakOnDevice}) fits in {@code budgetBytes}; 0 if not even one sequence does.
     */
    public static int largestMicroBatch(SpeedrunConfig config, long budgetBytes) {
        int largest = largestPass(config.train());
        int fits = 0;
        for (int b = 1; b <= largest && peakOnDevice(config, b) <= budgetBytes; b++) {
            fits = b;
        }
        return fits;
    }
}
