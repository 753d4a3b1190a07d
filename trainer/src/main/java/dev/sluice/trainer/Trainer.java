package dev.sluice.trainer;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.sluice.tokenizer.Tokenizer;
import java.util.List;

/**
 * The training core a job drives: {@link #step} takes the next batch of packed rows (seq_len+1 tokens each) and
 * applies one optimizer step under the schedules; {@link #evaluate} scores rows without training. Deterministic:
 * the same config, seed and rows give the same losses.
 */
public final class Trainer implements AutoCloseable {

    /** What one step did. */
    public record StepResult(int step, double loss, double lrMultiplier, double muonMomentum, int sequences,
                             int longWindow, long tokens, double seconds, double optimizerSeconds) {}

    /** Mean loss (nats per token) and bits per byte over some rows. */
    public record EvalResult(double loss, double bitsPerByte, long tokens, long bytes) {}

    /** Tokens per evaluation pass (bounds its memory; the tiny and micro configs' 8 rows fit). */
    static final int EVAL_TOKENS = 2048;

    private final SpeedrunConfig config;
    private final Schedules schedules;
    private final NDManager manager;
    private final Gpt model;
    private final Muon muon;
    private final Adam adam;
    private final int[] tokenBytes;
    private int step;

    public Trainer(SpeedrunConfig config, Tokenizer tokenizer) {
        this.config = config;
        this.schedules = config.schedules();
        Device device = Devices.require(config.train().device());
        Devices.requireTf32(config.train().device(), config.train().tf32(), System.getenv());
        this.manager = NDManager.newBaseManager(device, "PyTorch");
        DataType dtype = config.train().dtype().equals("float64") ? DataType.FLOAT64 : DataType.FLOAT32;
        this.model = new Gpt(config.model(), manager, dtype, config.train().dtype().equals("bfloat16"),
                config.train().seed());
        this.muon = new Muon(config.train().muonWeightDecay(), config.train().muonEps());
        this.adam = new Adam(config.train().adamBeta1(), config.train().adamBeta2(), config.train().adamEps(),
                config.train().adamWeightDecay());
        this.tokenBytes = tokenizer.tokenByteLengths();
    }

    public int step() {
        return step;
    }

    public Schedules schedules() {
        return schedules;
    }

    public Gpt model() {
        return model;
    }

    public SpeedrunConfig config() {
        return config;
    }

    /** Sequences the next step wants (the batch-size schedule). */
    public int nextBatchSize() {
        return schedules.batchSequences(step);
    }

    public boolean done() {
        return step >= schedules.totalSteps();
    }

    /** One optimizer step on {@code rows} (each seq_len+1 tokens). */
    public StepResult step(List<int[]> rows) {
        long start = System.nanoTime();
        double lrMult = schedules.lrMultiplier(step);
        double momentum = schedules.muonMomentum(step);
        int[] windows = schedules.longWindowsThrough(step);
        int window = windows[windows.length - 1];
        double loss;
        long optimizerStart;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            AttentionSchedule attention = model.schedule(config.model().seqLen(), windows);
            loss = accumulateGradients(rows, attention);
            Autograd.off(); // the collector restores the thread's previous mode, which may be on
            optimizerStart = System.nanoTime();
            applyUpdates(lrMult, momentum);
        }
        if (!Double.isFinite(loss)) {
            throw new IllegalStateException("loss is " + loss + " at step " + step);
        }
        StepResult r = new StepResult(step, loss, lrMult, momentum, rows.size(), window,
                (long) rows.size() * config.model().seqLen(), (System.nanoTime() - start) / 1e9,
                (System.nanoTime() - optimizerStart) / 1e9);
        step++;
        return r;
    }

    /**
     * Forward and backward over {@code rows} in micro-batches; the parameters' gradients accumulate to those of the
     * mean loss over all rows, which is returned.
     */
    private double accumulateGradients(List<int[]> rows, AttentionSchedule attention) {
        int micro = config.train().microBatch() > 0 ? config.train().microBatch() : rows.size();
        double loss = 0;
        for (int from = 0; from < rows.size(); from += micro) {
            List<int[]> part = rows.subList(from, Math.min(rows.size(), from + micro));
            double share = (double) part.size() / rows.size();
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray batch = rowsArray(part);
                // DJL's PyTorch engine allows one gradient collector per JVM at a time; trainers sharing a JVM (an
                // A/B in one MiniCluster) take turns for the forward/backward pass.
                synchronized (Autograd.class) {
                    try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                        NDArray l = model.loss(batch, attention);
                        collector.backward(share == 1 ? l : l.mul(model.constants().of(share)));
                        loss += share * l.toType(DataType.FLOAT64, false).getDouble();
                    }
                }
            }
        }
        return loss;
    }

    private void applyUpdates(double lrMult, double momentum) {
        TrainConfig t = config.train();
        if (t.adamGradClip() > 0) {
            List<NDArray> adamGrads = model.parameters().stream().filter(p -> p.group() != Gpt.Group.MUON)
                    .map(p -> p.value().getGradient()).toList();
            double factor = clipFactor(adamGrads, t.adamGradClip());
            if (factor < 1) {
                adamGrads.forEach(g -> g.muli(factor));
            }
        }
        for (Gpt.Param p : model.parameters()) {
            // A scope per parameter: an update's temporaries (Newton–Schulz's products, Adam's ratios; hundreds of
            // MB for the embedding) are freed before the next parameter's, not all at the end of the step.
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray grad = p.value().getGradient();
                switch (p.group()) {
                    case MUON -> muon.step(p.name(), p.value(), grad, t.muonLr() * lrMult, momentum);
                    case LM_HEAD -> adam.step(p.name(), p.value(), grad, t.adamLr() * lrMult, step + 1);
                    case EMBEDDING -> adam.step(p.name(), p.value(), grad,
                            t.adamLr() * t.embeddingLrMultiplier() * lrMult, step + 1);
                    case SCALAR -> adam.step(p.name(), p.value(), grad,
                            t.adamLr() * t.scalarLrMultiplier() * lrMult, step + 1);
                }
            }
            JniUtils.zeroGrad((PtNDArray) p.value()); // gradients accumulate across backward passes: clear them
        }
    }

    /** What gradients are multiplied by so that their global L2 norm is at most {@code maxNorm} (1 if it is). */
    static double clipFactor(List<NDArray> grads, double maxNorm) {
        double squares = 0;
        for (NDArray g : grads) {
            try (NDScope scope = new NDScope()) { // the float64 copies of the embedding's gradient are large
                scope.suppressNotUsedWarning();
                squares += g.toType(DataType.FLOAT64, false).square().sum().getDouble();
            }
        }
        double norm = Math.sqrt(squares);
        return norm > maxNorm ? maxNorm / norm : 1.0;
    }

    /** Loss and bits-per-byte of {@code rows} under the current weights (attention as at the current step). */
    public EvalResult evaluate(List<int[]> rows, int batchSize) {
        Autograd.off();
        double nats = 0;
        long tokens = 0;
        long bytes = 0;
        int[] windows = schedules.longWindowsThrough(Math.min(step, schedules.totalSteps() - 1));
        // at most EVAL_TOKENS per pass: the logits are [rows·seq_len, V] (1 GB per 2,048 tokens at V = 128,256)
        int perPass = Math.max(1, Math.min(batchSize, EVAL_TOKENS / config.model().seqLen()));
        for (int i = 0; i < rows.size(); i += perPass) {
            List<int[]> chunk = rows.subList(i, Math.min(rows.size(), i + perPass));
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                AttentionSchedule attention = model.schedule(config.model().seqLen(), windows);
                NDArray losses = model.tokenLosses(rowsArray(chunk), attention);
                nats += losses.toType(DataType.FLOAT64, false).sum().getDouble();
            }
            for (int[] row : chunk) {
                for (int j = 1; j < row.length; j++) {
                    bytes += tokenBytes[row[j]];
                }
                tokens += row.length - 1;
            }
        }
        return new EvalResult(nats / tokens, nats / (Math.log(2) * Math.max(1, bytes)), tokens, bytes);
    }

    private NDArray rowsArray(List<int[]> rows) {
        int width = config.model().seqLen() + 1;
        long[] flat = new long[rows.size() * width];
        for (int r = 0; r < rows.size(); r++) {
            int[] row = rows.get(r);
            if (row.length != width) {
                throw new IllegalArgumentException("row " + r + " has " + row.length + " tokens, expected seq_len+1 = "
                        + width);
            }
            for (int j = 0; j < width; j++) {
                flat[r * width + j] = row[j];
            }
        }
        return manager.create(flat, new Shape(rows.size(), width));
    }

    /** Weights and optimizer state, for checkpoints. */
    Muon muon() {
        return muon;
    }

    Adam adam() {
        return adam;
    }

    void restoreStep(int step) {
        this.step = step;
    }

    @Override
    public void close() {
        model.close();
        manager.close();
    }
}
