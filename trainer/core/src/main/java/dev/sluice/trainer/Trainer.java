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
import dev.sluice.collective.GlooGroup;
import dev.sluice.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The training core a job drives: {@link #step} takes the next batch of packed rows (seq_len+1 tokens each) and
 * applies one optimizer step under the schedules; {@link #evaluate} scores rows without training. Deterministic:
 * the same config, seed and rows give the same losses.
 */
public final class Trainer implements AutoCloseable {

    /**
     * What one step did. {@code deviceSeconds} holds, per device, the time the step's forward/backward passes kept
     * the host on that device's work: launching it and waiting for its losses (on the CPU: computing it).
     */
    public record StepResult(int step, double loss, double lrMultiplier, double muonMomentum, int sequences,
                             int longWindow, long tokens, double seconds, double optimizerSeconds,
                             List<Double> deviceSeconds) {}

    /** Mean loss (nats per token) and bits per byte over some rows. */
    public record EvalResult(double loss, double bitsPerByte, long tokens, long bytes) {}

    /** Tokens per evaluation pass (bounds its memory; the tiny and micro configs' 8 rows fit). */
    static final int EVAL_TOKENS = 2048;

    private final SpeedrunConfig config;
    private final Schedules schedules;
    private final NDManager manager;
    private final Gpt model;
    private final Replicas replicas;
    private final Muon muon;
    private final Adam adam;
    private final int[] tokenBytes;
    private final RankSync sync; // null: one rank
    private int step;

    public Trainer(SpeedrunConfig config, Tokenizer tokenizer) {
        this(config, tokenizer, null);
    }

    /**
     * A trainer that is one rank of {@code ranks} (null: the only one). Each rank's {@link #step} gets its equal
     * shard of the global batch; rank 0's initial parameters are copied to the others here.
     */
    public Trainer(SpeedrunConfig config, Tokenizer tokenizer, GlooGroup ranks) {
        boolean ranked = ranks != null && ranks.size() > 1;
        if (ranked) {
            requireShardable(config, ranks.size());
        }
        this.config = config;
        this.schedules = config.schedules();
        List<Device> devices = Devices.requireAll(config.train());
        Devices.requireTf32(config.train().device(), config.train().tf32(), System.getenv());
        this.manager = NDManager.newBaseManager(devices.get(0), "PyTorch");
        this.model = new Gpt(config.model(), manager, Precision.named(config.train().dtype()), config.train().seed());
        this.replicas = new Replicas(model, devices, config.train().seed());
        this.muon = new Muon(config.train().muonWeightDecay(), config.train().muonEps(),
                Muon.Coefficients.named(config.train().muonCoefficients()));
        this.adam = new Adam(config.train().adamBeta1(), config.train().adamBeta2(), config.train().adamEps(),
                config.train().adamWeightDecay());
        this.tokenBytes = tokenizer.tokenByteLengths();
        this.sync = ranked ? new RankSync(ranks) : null;
        syncRanks();
    }

    /**
     * Joins the trainers' Gloo group. Go through here rather than {@link GlooGroup#join}: libtorch must be loaded
     * (DJL's, with JavaCPP's presets on it) before JavaCPP loads any other native library, or JavaCPP would later load
     * its own second copy of libtorch, which aborts the process.
     */
    public static GlooGroup joinRanks(GlooGroup.Rendezvous rendezvous) throws java.io.IOException {
        ranksUnavailable().ifPresent(why -> {
            throw new IllegalStateException("rank " + rendezvous.rank() + " of " + rendezvous.size() + ": " + why
                    + " (docs/ranks.md)");
        });
        return GlooGroup.join(rendezvous);
    }

    /** Why this host cannot join ranks (no Gloo), or empty when it can; loads libtorch first, as {@link #joinRanks}. */
    public static java.util.Optional<String> ranksUnavailable() {
        Torch.load();
        return GlooGroup.unavailable();
    }

    /**
     * Refuses what {@code ranks} ranks cannot train: they split every batch into equal shards. Jobs call it before
     * they start.
     */
    public static void requireShardable(SpeedrunConfig config, int ranks) {
        if (ranks < 1) {
            throw new IllegalArgumentException("ranks must be >= 1 (got " + ranks + ")");
        }
        if (ranks == 1) {
            return;
        }
        for (int batch : config.train().batchSchedule()) {
            if (batch % ranks != 0) {
                throw new IllegalArgumentException("train.batch_schedule has a batch of " + batch + " sequences, "
                        + "which " + ranks + " ranks cannot split into equal shards");
            }
        }
    }

    /** This rank and how many there are (0 of 1 without a group). */
    public int rank() {
        return sync == null ? 0 : sync.rank();
    }

    public int ranks() {
        return sync == null ? 1 : sync.size();
    }

    /** After a restore: copies rank 0's parameters to every rank and checks them equal (free with one rank). */
    public void syncRanks() {
        if (sync != null) {
            sync.broadcastParameters(model.parameters());
        }
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

    /** The devices the step runs on, the master's first (one unless {@code train.devices} lists more). */
    public List<Device> devices() {
        return replicas.devices();
    }

    /** Sequences the next step wants (the batch-size schedule). */
    public int nextBatchSize() {
        return schedules.batchSequences(step);
    }

    public boolean done() {
        return step >= schedules.totalSteps();
    }

    /** One optimizer step on {@code rows} (each seq_len+1 tokens): this rank's shard of the global batch. */
    public StepResult step(List<int[]> rows) {
        long start = System.nanoTime();
        double lrMult = schedules.lrMultiplier(step);
        double momentum = schedules.muonMomentum(step);
        int[] windows = schedules.longWindowsThrough(step);
        int window = windows[windows.length - 1];
        double loss;
        long optimizerStart;
        double[] deviceSeconds = new double[replicas.size()];
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            replicas.broadcastWeights();
            loss = accumulateGradients(rows, windows, deviceSeconds);
            Autograd.off(); // the collector restores the thread's previous mode, which may be on
            replicas.sumGradientsIntoMaster();
            if (sync != null) {
                sync.averageGradients(model.parameters());
                loss = sync.mean(loss);
            }
            optimizerStart = System.nanoTime();
            applyUpdates(lrMult, momentum);
        }
        if (!Double.isFinite(loss)) {
            throw new IllegalStateException("loss is " + loss + " at step " + step);
        }
        int sequences = rows.size() * ranks();
        StepResult r = new StepResult(step, loss, lrMult, momentum, sequences, window,
                (long) sequences * config.seqLen(), (System.nanoTime() - start) / 1e9,
                (System.nanoTime() - optimizerStart) / 1e9, Arrays.stream(deviceSeconds).boxed().toList());
        step++;
        return r;
    }

    /**
     * Forward and backward over {@code rows} in micro-batches, micro-batch k on replica k mod N; each replica's
     * gradients accumulate to those of its rows' share of the mean loss over all rows, which is returned.
     *
     * <p>DJL's PyTorch engine allows one gradient collector per JVM at a time, so every replica's passes run under
     * one collector on this thread (trainers sharing a JVM, an A/B in one MiniCluster, take turns per step). That
     * still keeps N GPUs busy: CUDA kernels are queued, not waited for, so forward and backward of micro-batch k
     * return once their kernels are launched and the host moves on to k+1 on the next device while k runs. Nothing
     * reads a result until every micro-batch is launched (the losses are read last), so the devices run side by side
     * and the host waits once per step. Round-robin rather than a contiguous block per device: every device gets its
     * first work after one launch, not after another device's whole share.
     */
    private double accumulateGradients(List<int[]> rows, int[] windows, double[] deviceSeconds) {
        int n = replicas.size();
        int micro = config.train().microBatch() != null ? config.train().microBatch() : (rows.size() + n - 1) / n;
        List<AttentionSchedule> attention = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            attention.add(replicas.get(r).schedule(config.seqLen(), windows));
        }
        List<NDArray> losses = new ArrayList<>(); // float64 scalars, one per micro-batch, on their devices
        List<Double> shares = new ArrayList<>();
        synchronized (Autograd.class) {
            try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                for (int from = 0, k = 0; from < rows.size(); from += micro, k++) {
                    long start = System.nanoTime();
                    Gpt replica = replicas.get(k % n);
                    List<int[]> part = rows.subList(from, Math.min(rows.size(), from + micro));
                    double share = (double) part.size() / rows.size();
                    try (NDScope scope = new NDScope()) { // the pass's activations are freed after its backward
                        scope.suppressNotUsedWarning();
                        Gpt.Pass pass = replica.pass(rowsArray(part, replica.manager()), attention.get(k % n), share);
                        collector.backward(pass.backward());
                        NDArray value = pass.loss();
                        NDScope.unregister(value);
                        losses.add(value);
                        shares.add(share);
                    }
                    deviceSeconds[k % n] += (System.nanoTime() - start) / 1e9;
                }
            }
        }
        double loss = 0;
        for (int k = 0; k < losses.size(); k++) {
            long start = System.nanoTime();
            try (NDArray value = losses.get(k)) {
                loss += shares.get(k) * value.getDouble(); // waits for the device that computed it
            }
            deviceSeconds[k % n] += (System.nanoTime() - start) / 1e9;
        }
        return loss;
    }

    private void applyUpdates(double lrMult, double momentum) {
        TrainConfig t = config.train();
        boolean adamOnly = t.optimizer().equals("adamw");
        if (t.adamGradClip() > 0) {
            List<NDArray> adamGrads = model.parameters().stream().filter(p -> adamOnly || p.group() != Gpt.Group.MUON)
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
                    case MUON -> {
                        if (adamOnly) {
                            adam.step(p.name(), p.value(), grad, t.adamLr() * lrMult, step + 1, true);
                        } else {
                            muon.step(p.name(), p.value(), grad, t.muonLr() * lrMult, momentum);
                        }
                    }
                    case LM_HEAD -> adam.step(p.name(), p.value(), grad, t.adamLr() * lrMult, step + 1, true);
                    // Levanter's default weight-decay mask leaves embeddings undecayed (train.decay_embedding)
                    case EMBEDDING -> adam.step(p.name(), p.value(), grad,
                            t.adamLr() * t.embeddingLrMultiplier() * lrMult, step + 1, t.decayEmbedding());
                    case SCALAR -> adam.step(p.name(), p.value(), grad,
                            t.adamLr() * t.scalarLrMultiplier() * lrMult, step + 1, true);
                }
            }
            JniUtils.zeroGrad((PtNDArray) p.value()); // gradients accumulate across backward passes: clear them
        }
    }

    /** What gradients are multiplied by so that their global L2 norm is at most {@code maxNorm} (1 if it is). */
    static double clipFactor(List<NDArray> grads, double maxNorm) {
        double squares = 0;
        for (NDArray g : grads) {
            squares += Float64Sums.squares(g);
        }
        double norm = Math.sqrt(squares);
        return norm > maxNorm ? maxNorm / norm : 1.0;
    }

    /**
     * Loss and bits-per-byte of {@code rows} under the current weights (attention as at the current step). With
     * ranks, every rank passes the same rows and evaluates its contiguous share; the sums are added across ranks.
     */
    public EvalResult evaluate(List<int[]> allRows, int batchSize) {
        Autograd.off();
        List<int[]> rows = allRows.subList(allRows.size() * rank() / ranks(), allRows.size() * (rank() + 1) / ranks());
        double nats = 0;
        long tokens = 0;
        long bytes = 0;
        int[] windows = schedules.longWindowsThrough(Math.min(step, schedules.totalSteps() - 1));
        // at most EVAL_TOKENS per pass: bounds its activations (and under model.loss: full its [tokens, V] logits)
        int perPass = Math.max(1, Math.min(batchSize, EVAL_TOKENS / config.seqLen()));
        for (int i = 0; i < rows.size(); i += perPass) {
            List<int[]> chunk = rows.subList(i, Math.min(rows.size(), i + perPass));
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                AttentionSchedule attention = model.schedule(config.seqLen(), windows);
                NDArray losses = model.tokenLosses(rowsArray(chunk, manager), attention);
                nats += losses.toType(DataType.FLOAT64, false).sum().getDouble();
            }
            for (int[] row : chunk) {
                for (int j = 1; j < row.length; j++) {
                    bytes += tokenBytes[row[j]];
                }
                tokens += row.length - 1;
            }
        }
        if (sync != null) {
            double[] sums = {nats, tokens, bytes}; // float64 holds counts exactly up to 2^53
            sync.sum(sums);
            nats = sums[0];
            tokens = (long) sums[1];
            bytes = (long) sums[2];
        }
        return new EvalResult(nats / tokens, nats / (Math.log(2) * Math.max(1, bytes)), tokens, bytes);
    }

    private NDArray rowsArray(List<int[]> rows, NDManager manager) {
        int width = config.seqLen() + 1;
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
        if (sync != null) {
            sync.close();
        }
        replicas.close();
        model.close();
        manager.close();
    }
}
