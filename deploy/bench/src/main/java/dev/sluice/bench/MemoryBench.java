package dev.sluice.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.jobs.Speedruns;
import dev.sluice.trainer.MemoryPlan;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.Torch;
import dev.sluice.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The memory planner's prediction against the peak measured on the CPU: each config trains two steps (the second
 * with gradients and optimizer state already allocated) in a fresh JVM, whose peak resident memory is reset after
 * the engine has loaded so that only the trainer's allocations count. The JVM heap is fixed and touched up front
 * so that it does not grow into the figure, and the JIT stops at C1: C2's compiler arenas otherwise added 0-30 MB
 * at random to the measurement (micro's 110 MB measured 116-140 MB; with C1 only, 114-115 MB in four runs).
 */
public final class MemoryBench {

    /** One config's prediction and measurement, in bytes, with {@code replicas} CPU replicas. */
    public record Result(String config, int micro, int replicas, long predicted, long measured) {
        public double ratio() {
            return (double) measured / predicted;
        }
    }

    private MemoryBench() {}

    public static int run(List<Path> configs, int micro, int replicas) throws IOException, InterruptedException {
        System.out.printf(Locale.ROOT, "%-8s %6s %8s %14s %14s %8s%n", "config", "micro", "replicas", "predicted MB",
                "measured MB", "ratio");
        for (Path config : configs) {
            Result r = measure(config, micro, replicas);
            System.out.printf(Locale.ROOT, "%-8s %6d %8d %14.0f %14.0f %8.3f%n", r.config(), r.micro(), r.replicas(),
                    r.predicted() / 1e6, r.measured() / 1e6, r.ratio());
        }
        return 0;
    }

    /** Runs {@link #main} for {@code config} in a child JVM with this one's class path and library settings. */
    public static Result measure(Path config, int micro) throws IOException, InterruptedException {
        return measure(config, micro, 1);
    }

    /**
     * With {@code replicas} > 1 the step runs on that many replicas on the CPU ({@code train.devices}), each pass
     * {@code micro} sequences: what the planner adds for replicas sharing one memory.
     */
    public static Result measure(Path config, int micro, int replicas) throws IOException, InterruptedException {
        Path out = Files.createTempFile("sluice-memory", ".txt");
        try {
            ChildJvm.run(MemoryBench.class, List.of("-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch", "-XX:TieredStopAtLevel=1"),
                    config.toString(), Integer.toString(micro), Integer.toString(replicas), out.toString());
            String[] f = Files.readString(out).trim().split(" ");
            return new Result(f[0], micro, replicas, Long.parseLong(f[1]), Long.parseLong(f[2]));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** The child: {@code CONFIG MICRO REPLICAS OUT}; writes "name predicted measured". */
    public static void main(String[] args) throws IOException {
        int micro = Integer.parseInt(args[1]);
        int replicas = Integer.parseInt(args[2]);
        SpeedrunConfig c = SpeedrunConfig.load(Speedruns.resolve(Path.of(args[0])))
                .withTrain(Map.of("batch_schedule", List.of(micro * replicas), "micro_batch", micro, "device", "cpu",
                        "devices", replicas == 1 ? List.of() : java.util.Collections.nCopies(replicas, "cpu")));
        SplittableRandom random = new SplittableRandom(1);
        List<int[]> rows = new ArrayList<>();
        for (int i = 0; i < micro * replicas; i++) {
            rows.add(random.ints(c.seqLen() + 1, 0, c.model().vocabSize()).toArray());
        }
        var tokenizer = c.tokenizer().load();
        warmUp();
        warmUpTrainer(c, tokenizer);
        System.gc();
        long baseline = residentBytes("VmRSS");
        Files.writeString(Path.of("/proc/self/clear_refs"), "5"); // resets VmHWM to the current resident size
        try (Trainer t = new Trainer(c, tokenizer)) {
            t.step(rows);
            t.step(rows);
        }
        long measured = residentBytes("VmHWM") - baseline;
        Files.writeString(Path.of(args[3]), c.name() + " " + MemoryPlan.peakOnDevice(c, micro) + " " + measured);
    }

    /**
     * Starts what the first training step would otherwise start inside the measurement and keep for the life of
     * the process: the intra-op thread pool and its per-thread buffers (an op large enough to run in parallel),
     * autograd's engine (one backward pass), the bridge's JNI library with its preloads, and the pages of
     * libtorch's code the ops run (fused attention's kernels, causal and masked, forward and backward: 36 MB of
     * {@code micro}'s measured peak until they were warmed here). Its tensors are small next to any model's.
     */
    private static void warmUp() {
        Torch.load();
        try (NDManager m = NDManager.newBaseManager("PyTorch");
             GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray x = m.ones(new Shape(256, 256));
            x.setRequiresGradient(true);
            NDArray q = m.ones(new Shape(1, 2, 64, 8));
            q.setRequiresGradient(true);
            NDArray visible = m.ones(new Shape(64, 64)).toType(ai.djl.ndarray.types.DataType.BOOLEAN, false);
            NDArray attention = Torch.scaledDotProductAttention(q, q, q, null, 0.3)
                    .add(Torch.scaledDotProductAttention(q, q, q, visible, 0.3));
            collector.backward(x.matMul(x).logSoftmax(-1).sum().add(attention.sum()));
        }
    }

    /**
     * One step of a one-layer, 128-id version of {@code c}: the chunked loss's, Adam's and Muon's kernels have code
     * pages of their own (10 MB of {@code micro}'s measured peak until they were warmed here).
     */
    private static void warmUpTrainer(SpeedrunConfig c, dev.sluice.tokenizer.Tokenizer tokenizer) {
        Map<String, Object> train = Map.of("batch_schedule", List.of(1), "devices", List.of(), "window_start", 8,
                "window_block", 8, "micro_batch", YamlConfig.LEFT_OUT);
        SpeedrunConfig small = new SpeedrunConfig(c.name(), c.data().withSeqLen(8), c.model(), c.train())
                .withModel(Map.of("vocab_size", 128, "d_model", 16, "n_layers", 1, "n_heads", 2, "head_dim", 8))
                .withTrainTokens(80, train);
        try (Trainer t = new Trainer(small, tokenizer)) {
            t.step(List.of(new SplittableRandom(2).ints(9, 0, 128).toArray()));
        }
    }

    static long residentBytes(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException(field + " missing from /proc/self/status");
    }
}
