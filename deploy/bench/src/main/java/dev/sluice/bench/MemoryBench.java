package dev.sluice.bench;

import dev.sluice.jobs.Speedruns;
import dev.sluice.tokenizer.Tokenizers;
import dev.sluice.trainer.MemoryPlan;
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
 * The memory planner's prediction against the peak measured on the CPU: each config trains two steps (the second
 * with gradients and optimizer state already allocated) in a fresh JVM, whose peak resident memory is reset after
 * the engine has loaded so that only the trainer's allocations count. The JVM heap is fixed and touched up front
 * so that it does not grow into the figure.
 */
public final class MemoryBench {

    /** One config's prediction and measurement, in bytes. */
    public record Result(String config, int micro, long predicted, long measured) {
        public double ratio() {
            return (double) measured / predicted;
        }
    }

    private MemoryBench() {}

    public static int run(List<Path> configs, int micro) throws IOException, InterruptedException {
        System.out.printf(Locale.ROOT, "%-8s %6s %14s %14s %8s%n", "config", "micro", "predicted MB", "measured MB",
                "ratio");
        for (Path config : configs) {
            Result r = measure(config, micro);
            System.out.printf(Locale.ROOT, "%-8s %6d %14.0f %14.0f %8.3f%n", r.config(), r.micro(), r.predicted() / 1e6,
                    r.measured() / 1e6, r.ratio());
        }
        return 0;
    }

    /** Runs {@link #main} for {@code config} in a child JVM with this one's class path and library settings. */
    public static Result measure(Path config, int micro) throws IOException, InterruptedException {
        Path out = Files.createTempFile("sluice-memory", ".txt");
        try {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch", "-cp",
                    System.getProperty("java.class.path")));
            for (String property : List.of("sluice.home", "sluice.log", "ai.djl.offline")) {
                if (System.getProperty(property) != null) {
                    command.add("-D" + property + "=" + System.getProperty(property));
                }
            }
            command.addAll(List.of(MemoryBench.class.getName(), config.toString(), Integer.toString(micro),
                    out.toString()));
            Process p = new ProcessBuilder(command).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("memory probe for " + config + " exited with " + p.exitValue());
            }
            String[] f = Files.readString(out).trim().split(" ");
            return new Result(f[0], micro, Long.parseLong(f[1]), Long.parseLong(f[2]));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** The child: {@code CONFIG MICRO OUT}; writes "name predicted measured". */
    public static void main(String[] args) throws IOException {
        int micro = Integer.parseInt(args[1]);
        SpeedrunConfig c = SpeedrunConfig.load(Speedruns.resolve(Path.of(args[0])))
                .withTrain(Map.of("batch_schedule", List.of(micro), "micro_batch", micro, "device", "cpu"));
        SplittableRandom random = new SplittableRandom(1);
        List<int[]> rows = new ArrayList<>();
        for (int i = 0; i < micro; i++) {
            rows.add(random.ints(c.model().seqLen() + 1, 0, c.model().vocabSize()).toArray());
        }
        var tokenizer = Tokenizers.load(c.train().tokenizer());
        try (var warm = ai.djl.ndarray.NDManager.newBaseManager("PyTorch")) {
            warm.ones(new ai.djl.ndarray.types.Shape(64, 64)).matMul(warm.ones(new ai.djl.ndarray.types.Shape(64, 64)));
        }
        System.gc();
        long baseline = residentBytes("VmRSS");
        Files.writeString(Path.of("/proc/self/clear_refs"), "5"); // resets VmHWM to the current resident size
        try (Trainer t = new Trainer(c, tokenizer)) {
            t.step(rows);
            t.step(rows);
        }
        long measured = residentBytes("VmHWM") - baseline;
        Files.writeString(Path.of(args[2]), c.name() + " " + MemoryPlan.of(c, micro).peak() + " " + measured);
    }

    private static long residentBytes(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException(field + " missing from /proc/self/status");
    }
}
