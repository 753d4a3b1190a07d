package dev.sluice.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.jobs.Speedruns;
import dev.sluice.trainer.Flops;
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
 * Trainer FLOP/s (model FLOPs per step ÷ step time) for each attention (plain, sdpa), compute dtype (float32,
 * bfloat16) and C allocator (tcmalloc, the system's), each variant in a JVM of its own so its peak resident size is
 * its own. The reference is plain float32 matmul on the model's own biggest product (the lm_head: [B·T, d] × [d, V]),
 * measured in the same JVM before, between and after the steps; its spread says how much the shared host moved
 * during the measurement. With both allocators, each variant's tokens/s is also given as a ratio to tcmalloc's.
 */
public final class TrainerBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Tokens per step when no batch is given: tiny's first phase (8 × 256), one 2,048-token sequence of 150m. */
    static final int DEFAULT_TOKENS = 2048;

    /** What to measure: configs × allocators × attentions × dtypes. */
    public record Plan(List<Path> configs, List<String> allocators, List<String> losses, List<String> attentions,
                       List<String> dtypes, int steps, Integer batch, Integer microBatch) {}

    private TrainerBench() {}

    /**
     * {@code batch} null: the config's first phase, at most {@value #DEFAULT_TOKENS} tokens; {@code microBatch} null:
     * the config's. The run is always on the CPU here.
     */
    public static int run(Plan plan) throws IOException, InterruptedException {
        List<Allocator> allocators = plan.allocators().stream().map(Allocator::parse).flatMap(List::stream).toList();
        System.out.printf(Locale.ROOT, "%-6s %-8s %-7s %-6s %-9s %9s %9s %10s %9s %15s %6s %8s %9s %10s%n", "config",
                "malloc", "loss", "attn", "dtype", "step s", "tokens/s", "optimizer", "GFLOP/s", "matmul GFLOP/s", "ratio",
                "speedup", "peak MB", "loss");
        List<ObjectNode> results = new ArrayList<>();
        for (Path config : plan.configs()) {
            double baseline = 0;
            for (Variant v : variants(plan, allocators)) {
                ObjectNode r = measure(config, v, plan);
                double stepSeconds = r.get("step_seconds").asDouble();
                baseline = baseline == 0 ? stepSeconds : baseline;
                r.put("speedup_vs_first_variant", Math.round(baseline / stepSeconds * 100) / 100.0);
                print(r, baseline / stepSeconds);
                results.add(r);
            }
        }
        addRatiosToTcmalloc(results);
        results.forEach(System.out::println);
        return 0;
    }

    /** One measured combination; a config's variants run in this order, the allocators side by side. */
    private record Variant(String loss, String attention, String dtype, Allocator allocator) {}

    private static List<Variant> variants(Plan plan, List<Allocator> allocators) {
        List<Variant> variants = new ArrayList<>();
        for (String loss : plan.losses()) {
            for (String attention : plan.attentions()) {
                for (String dtype : plan.dtypes()) {
                    for (Allocator allocator : allocators) {
                        variants.add(new Variant(loss, attention, dtype, allocator));
                    }
                }
            }
        }
        return variants;
    }

    private static ObjectNode measure(Path config, Variant v, Plan plan) throws IOException, InterruptedException {
        Path out = Files.createTempFile("sluice-trainer-bench", ".json");
        try {
            ChildJvm.run(TrainerBench.class, List.of("-Xmx2g"), v.allocator().environment(System.getenv()),
                    config.toString(), v.attention(), v.dtype(), Integer.toString(plan.steps()),
                    orConfig(plan.batch()), orConfig(plan.microBatch()), out.toString(), v.loss());
            ObjectNode r = (ObjectNode) JSON.readTree(out.toFile());
            r.put("allocator", v.allocator().label());
            return r;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static void print(ObjectNode r, double speedup) {
        double min = Double.MAX_VALUE;
        double max = 0;
        double sum = 0;
        for (JsonNode g : r.get("matmul_gflops")) {
            min = Math.min(min, g.asDouble());
            max = Math.max(max, g.asDouble());
            sum += g.asDouble();
        }
        double mean = sum / r.get("matmul_gflops").size();
        System.out.printf(Locale.ROOT, "%-6s %-8s %-7s %-6s %-9s %9.2f %9.0f %10.2f %9.1f %7.0f [%3.0f-%3.0f] %6.2f %8.2f"
                        + " %9d %10.5f%n", r.get("config").asText(), r.get("allocator").asText(), r.get("loss").asText(),
                r.get("attention").asText(), r.get("dtype").asText(), r.get("step_seconds").asDouble(),
                r.get("tokens_per_s").asDouble(), r.get("optimizer_seconds").asDouble(),
                r.get("trainer_gflops").asDouble(), mean, min, max, r.get("trainer_gflops").asDouble() / mean,
                speedup, r.get("peak_rss_bytes").asLong() >> 20, r.get("first_loss").asDouble());
    }

    /** Each result's tokens/s over tcmalloc's for the same config, attention and dtype, where both were measured. */
    static void addRatiosToTcmalloc(List<ObjectNode> results) {
        for (ObjectNode r : results) {
            results.stream().filter(o -> o.get("allocator").asText().equals("tcmalloc")
                            && o.get("config").asText().equals(r.get("config").asText())
                            && o.get("attention").asText().equals(r.get("attention").asText())
                            && o.get("loss").asText().equals(r.get("loss").asText())
                            && o.get("dtype").asText().equals(r.get("dtype").asText())).findFirst()
                    .ifPresent(t -> r.put("ratio_to_tcmalloc", Math.round(r.get("tokens_per_s").asDouble()
                            / t.get("tokens_per_s").asDouble() * 1000) / 1000.0));
        }
    }

    /** A child's argument: the number, or {@code config} for the config's own. */
    private static String orConfig(Integer value) {
        return value == null ? "config" : value.toString();
    }

    /** The child: {@code CONFIG ATTENTION DTYPE STEPS BATCH MICRO OUT LOSS}; writes one variant's figures as JSON. */
    public static void main(String[] args) throws IOException {
        SpeedrunConfig loaded = SpeedrunConfig.load(Speedruns.resolve(Path.of(args[0])));
        int steps = Integer.parseInt(args[3]);
        int batch = !args[4].equals("config") ? Integer.parseInt(args[4]) : Math.max(1,
                Math.min(loaded.train().batchSchedule().get(0), DEFAULT_TOKENS / loaded.seqLen()));
        Integer micro = !args[5].equals("config") ? Integer.valueOf(args[5]) : loaded.train().microBatch();
        Map<String, Object> train = Map.of("dtype", args[2], "batch_schedule", List.of(batch), "device", "cpu",
                "micro_batch", micro != null ? micro : YamlConfig.LEFT_OUT); // left out: the whole step in one pass
        SpeedrunConfig c = loaded.withModel(Map.of("attention", args[1], "loss", args[7])).withTrain(train);
        int seqLen = c.seqLen();
        SplittableRandom random = new SplittableRandom(1);
        List<int[]> rows = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            rows.add(random.ints(seqLen + 1, 0, c.model().vocabSize() / 2).toArray());
        }
        ArrayNode matmul = JSON.createArrayNode();
        matmul.add(matmulFlops(batch * seqLen, c.model().dModel(), c.model().vocabSize()) / 1e9);
        Trainer.StepResult best = null;
        List<Double> seconds = new ArrayList<>();
        double firstLoss = Double.NaN;
        boolean nativeBfloat16;
        try (Trainer t = new Trainer(c, c.tokenizer().load())) {
            nativeBfloat16 = t.model().nativeBfloat16();
            for (int s = 0; s < steps + 1; s++) { // the first step warms up
                Trainer.StepResult result = t.step(rows);
                firstLoss = s == 0 ? result.loss() : firstLoss;
                if (s >= 1 && (best == null || result.seconds() < best.seconds())) {
                    best = result;
                }
                if (s >= 1) {
                    seconds.add(result.seconds());
                }
                matmul.add(matmulFlops(batch * seqLen, c.model().dModel(), c.model().vocabSize()) / 1e9);
            }
        }
        double flopsPerStep = 3.0 * Flops.perToken(c) * batch * seqLen;
        ObjectNode r = JSON.createObjectNode();
        r.put("config", c.name());
        r.put("attention", args[1]);
        r.put("loss", args[7]);
        r.put("dtype", args[2]);
        r.put("bfloat16_matmuls", args[2].equals("bfloat16") ? (nativeBfloat16 ? "native" : "emulated") : "none");
        r.put("sequences", batch);
        r.put("micro_batch", micro != null ? Math.min(micro, batch) : batch);
        r.put("seq_len", seqLen);
        r.put("step_seconds", best.seconds());
        // the median step: an allocator's cost (fresh pages to fault in) shows in every step, not in the best one
        double median = seconds.stream().sorted().toList().get(seconds.size() / 2);
        r.put("median_step_seconds", median);
        r.put("tokens_per_s", batch * seqLen / median);
        r.put("optimizer_seconds", best.optimizerSeconds());
        r.put("trainer_gflops", flopsPerStep / best.seconds() / 1e9);
        r.set("matmul_gflops", matmul);
        r.put("first_loss", firstLoss);
        r.put("peak_rss_bytes", MemoryBench.residentBytes("VmHWM"));
        Files.writeString(Path.of(args[6]), r.toString());
    }

    /**
     * The product written into one output kept across the repeats: a fresh [m, n] result per call would measure
     * the allocator's page faults too (0.4 GB for tiny's lm_head), and the reference is compute alone.
     */
    static double matmulFlops(int m, int k, int n) {
        Torch.load();
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray a = manager.randomUniform(-1, 1, new Shape(m, k));
            NDArray b = manager.randomUniform(-1, 1, new Shape(k, n));
            NDArray out = manager.zeros(new Shape(m, n));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                long start = System.nanoTime();
                Torch.matMulInto(out, a, b); // eager on the CPU: done when it returns
                best = Math.min(best, (System.nanoTime() - start) / 1e9);
            }
            return 2.0 * m * k * n / best;
        }
    }
}
