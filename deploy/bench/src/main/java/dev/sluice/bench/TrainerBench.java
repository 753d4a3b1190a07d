package dev.sluice.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.jobs.Speedruns;
import dev.sluice.tokenizer.Tokenizers;
import dev.sluice.trainer.Flops;
import dev.sluice.trainer.SpeedrunConfig;
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
 * Trainer FLOP/s (model FLOPs per step ÷ step time) for each attention (plain, sdpa) and compute dtype (float32,
 * bfloat16), each variant in a JVM of its own so its peak resident size is its own. The reference is plain float32
 * matmul on the model's own biggest product (the lm_head: [B·T, d] × [d, V]), measured in the same JVM before, between
 * and after the steps; its spread says how much the shared host moved during the measurement.
 */
public final class TrainerBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String[]> VARIANTS = List.of(new String[] {"plain", "float32"},
            new String[] {"sdpa", "float32"}, new String[] {"plain", "bfloat16"}, new String[] {"sdpa", "bfloat16"});

    /** Tokens per step when no batch is given: tiny's first phase (8 × 256), one 2,048-token sequence of 150m. */
    static final int DEFAULT_TOKENS = 2048;

    private TrainerBench() {}

    /**
     * {@code batch} 0: the config's first phase, at most {@value #DEFAULT_TOKENS} tokens; {@code microBatch} -1: the
     * config's. The run is always on the CPU here.
     */
    public static int run(List<Path> configs, int steps, int batch, int microBatch)
            throws IOException, InterruptedException {
        System.out.printf(Locale.ROOT, "%-6s %-6s %-9s %9s %10s %9s %15s %6s %8s %9s %10s%n", "config", "attn",
                "dtype", "step s", "optimizer", "GFLOP/s", "matmul GFLOP/s", "ratio", "speedup", "peak MB",
                "loss");
        List<String> json = new ArrayList<>();
        for (Path config : configs) {
            double baseline = 0;
            for (String[] v : VARIANTS) {
                Path out = Files.createTempFile("sluice-trainer-bench", ".json");
                try {
                    ChildJvm.run(TrainerBench.class, List.of("-Xmx2g"), config.toString(), v[0], v[1],
                            Integer.toString(steps), Integer.toString(batch), Integer.toString(microBatch),
                            out.toString());
                    ObjectNode r = (ObjectNode) JSON.readTree(out.toFile());
                    double stepSeconds = r.get("step_seconds").asDouble();
                    baseline = baseline == 0 ? stepSeconds : baseline;
                    r.put("speedup_vs_plain_float32", Math.round(baseline / stepSeconds * 100) / 100.0);
                    JsonNode refs = r.get("matmul_gflops");
                    double min = Double.MAX_VALUE;
                    double max = 0;
                    double sum = 0;
                    for (JsonNode g : refs) {
                        min = Math.min(min, g.asDouble());
                        max = Math.max(max, g.asDouble());
                        sum += g.asDouble();
                    }
                    double mean = sum / refs.size();
                    System.out.printf(Locale.ROOT, "%-6s %-6s %-9s %9.2f %10.2f %9.1f %7.0f [%3.0f-%3.0f] %6.2f %8.2f"
                                    + " %9d %10.5f%n", r.get("config").asText(), v[0], v[1], stepSeconds,
                            r.get("optimizer_seconds").asDouble(), r.get("trainer_gflops").asDouble(), mean, min, max,
                            r.get("trainer_gflops").asDouble() / mean, baseline / stepSeconds,
                            r.get("peak_rss_bytes").asLong() >> 20, r.get("first_loss").asDouble());
                    json.add(r.toString());
                } finally {
                    Files.deleteIfExists(out);
                }
            }
        }
        json.forEach(System.out::println);
        return 0;
    }

    /** The child: {@code CONFIG ATTENTION DTYPE STEPS BATCH MICRO OUT}; writes one variant's figures as JSON. */
    public static void main(String[] args) throws IOException {
        SpeedrunConfig loaded = SpeedrunConfig.load(Speedruns.resolve(Path.of(args[0])));
        int steps = Integer.parseInt(args[3]);
        int batch = Integer.parseInt(args[4]) > 0 ? Integer.parseInt(args[4]) : Math.max(1,
                Math.min(loaded.train().batchSchedule().get(0), DEFAULT_TOKENS / loaded.model().seqLen()));
        int micro = Integer.parseInt(args[5]) >= 0 ? Integer.parseInt(args[5]) : loaded.train().microBatch();
        SpeedrunConfig c = loaded.withModel(Map.of("attention", args[1])).withTrain(Map.of("dtype", args[2],
                "batch_schedule", List.of(batch), "micro_batch", micro, "device", "cpu"));
        int seqLen = c.model().seqLen();
        SplittableRandom random = new SplittableRandom(1);
        List<int[]> rows = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            rows.add(random.ints(seqLen + 1, 0, c.model().vocabSize() / 2).toArray());
        }
        ArrayNode matmul = JSON.createArrayNode();
        matmul.add(matmulFlops(batch * seqLen, c.model().dModel(), c.model().vocabSize()) / 1e9);
        Trainer.StepResult best = null;
        double firstLoss = Double.NaN;
        boolean nativeBfloat16;
        try (Trainer t = new Trainer(c, Tokenizers.load(c.train().tokenizer()))) {
            nativeBfloat16 = t.model().nativeBfloat16();
            for (int s = 0; s < steps + 1; s++) { // the first step warms up
                Trainer.StepResult result = t.step(rows);
                firstLoss = s == 0 ? result.loss() : firstLoss;
                if (s >= 1 && (best == null || result.seconds() < best.seconds())) {
                    best = result;
                }
                matmul.add(matmulFlops(batch * seqLen, c.model().dModel(), c.model().vocabSize()) / 1e9);
            }
        }
        double flopsPerStep = 3.0 * Flops.perToken(c.model()) * batch * seqLen;
        ObjectNode r = JSON.createObjectNode();
        r.put("config", c.name());
        r.put("attention", args[1]);
        r.put("dtype", args[2]);
        r.put("bfloat16_matmuls", args[2].equals("bfloat16") ? (nativeBfloat16 ? "native" : "emulated") : "none");
        r.put("sequences", batch);
        r.put("micro_batch", micro > 0 ? Math.min(micro, batch) : batch);
        r.put("seq_len", seqLen);
        r.put("step_seconds", best.seconds());
        r.put("optimizer_seconds", best.optimizerSeconds());
        r.put("trainer_gflops", flopsPerStep / best.seconds() / 1e9);
        r.set("matmul_gflops", matmul);
        r.put("first_loss", firstLoss);
        r.put("peak_rss_bytes", MemoryBench.residentBytes("VmHWM"));
        Files.writeString(Path.of(args[6]), r.toString());
    }

    static double matmulFlops(int m, int k, int n) {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray a = manager.randomUniform(-1, 1, new Shape(m, k));
            NDArray b = manager.randomUniform(-1, 1, new Shape(k, n));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    long start = System.nanoTime();
                    a.matMul(b); // eager on the CPU: done when it returns
                    best = Math.min(best, (System.nanoTime() - start) / 1e9);
                }
            }
            return 2.0 * m * k * n / best;
        }
    }
}
