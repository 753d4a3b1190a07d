package dev.sluice.cli;

import dev.sluice.jobs.Speedruns;
import dev.sluice.trainer.Devices;
import dev.sluice.trainer.MemoryPlan;
import dev.sluice.trainer.SpeedrunConfig;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.MemorySize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice memory --config NAME}: the memory planner's predicted peak by part and the micro-batch that fits. */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = "Predicted peak device memory of a training step by part (weights, gradients, optimizer state, "
                + "activations, attention scores, logits, update scratch) and the largest micro-batch that fits.")
final class MemoryCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, description = "a speedrun name or YAML, e.g. 270m")
    Path config;

    @Option(names = "--tokenizer", description = "plan for this tokenizer's vocabulary instead of the config's")
    String tokenizer;

    @Option(names = "--micro-batch",
            description = "sequences per forward/backward pass (default: the config's micro_batch, else its largest batch)")
    Integer microBatch;

    @Option(names = "--device-memory",
            description = "memory to fit in, e.g. 80g (default: the config's device here: this host's available memory for cpu, "
                    + "the card's for a GPU PyTorch sees, else 80g)")
    String deviceMemory;

    @Override
    public Integer call() {
        SpeedrunConfig loaded = SpeedrunConfig.load(Speedruns.resolve(config));
        SpeedrunConfig c = tokenizer != null ? loaded.withTokenizer(tokenizer) : loaded;
        int largest = MemoryPlan.largestPass(c.train());
        int micro = microBatch != null ? microBatch : c.train().microBatch() != null ? c.train().microBatch() : largest;
        long budget = budget(c);
        MemoryPlan plan = MemoryPlan.of(c, micro);
        System.out.printf(Locale.ROOT, "%s: %,d parameters, %s, micro-batch %d x %d tokens, vocabulary %,d%n", c.name(),
                c.parameters(), c.train().dtype(), micro, c.seqLen(), c.model().vocabSize());
        for (Map.Entry<String, Long> part : plan.parts().entrySet()) {
            System.out.printf(Locale.ROOT, "  %-18s %10s%n", part.getKey(), gb(part.getValue()));
        }
        System.out.printf(Locale.ROOT, "  %-18s %10s   (state + the larger of a pass and the update)%n", "peak",
                gb(plan.peak()));
        int sharing = MemoryPlan.replicasSharingMemory(c.train());
        if (sharing > 1) {
            System.out.printf(Locale.ROOT, "  %-18s %10s   (%d replicas in this memory: the others' weights and "
                    + "gradients added)%n", "peak, replicas", gb(plan.peak(sharing)), sharing);
        }
        int fits = MemoryPlan.largestMicroBatch(c, budget);
        System.out.printf(Locale.ROOT, "in %s: %s (whole steps need %d per pass)%n", gb(budget), fits == 0
                ? "not even one sequence per pass fits" : "micro-batches of up to " + fits + " sequences fit", largest);
        return fits == 0 ? 1 : 0;
    }

    private long budget(SpeedrunConfig c) {
        if (deviceMemory != null) {
            return MemorySize.parseBytes(deviceMemory);
        }
        long here = Devices.memoryBytes(c.train().device());
        return here > 0 ? here : MemorySize.parseBytes("80g");
    }

    private static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }
}
