package dev.sluice.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.jobs.KafkaOptions;
import dev.sluice.jobs.RunOverrides;
import dev.sluice.jobs.Speedruns;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.runtime.Infrastructure;
import dev.sluice.runtime.SpeedrunRunner;
import dev.sluice.trainer.SpeedrunConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sluice speedrun --config tiny}: pipeline + trainer on the embedded runtime, with the Web UI and a report. */
@Command(name = "speedrun", mixinStandardHelpOptions = true,
        description = {"Runs the whole speedrun on one machine: an embedded Kafka broker and Flink MiniCluster (Web UI "
                + "printed), the TokenizeJob over the corpus and a TrainJob per tokenizer reading its topic as "
                + "batches commit.",
                "Writes results.json, metrics.jsonl, the checkpoint, curves.png and report.html into --out."})
final class SpeedrunCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, description = "tiny, 150m, ... or a speedrun YAML")
    Path config;

    @Option(names = "--data", description = "pipeline YAML for the corpus (default: configs/pipeline-demo.yaml); "
            + "the speedrun's own data: block decides dataset, tokenizer and seq_len")
    Path data;

    @Option(names = "--tokenizer", description = "gpt2, marin or hf:<file> instead of the config's")
    String tokenizer;

    @Option(names = "--tokenizers", description = "an A/B: comma-separated tokenizers, one trainer each")
    String tokenizers;

    @Option(names = "--out", description = "output directory (default: runs/<name>-<time>)")
    Path out;

    @Option(names = "--keep-ui", description = "keep the cluster and the Web UI up after the run, until Ctrl-C")
    boolean keepUi;

    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    @Mixin
    InfraOptions infra = new InfraOptions();

    @Option(names = "--train-checkpoint-ms", defaultValue = "20000", description = "trainer checkpoint interval")
    long trainCheckpointMs;

    @Option(names = "--ranks", defaultValue = "1", description = "trainer ranks per TrainJob: subtasks in one Gloo "
            + "group, each training an equal shard of every batch (cpu; docs/ranks.md)")
    int ranks;

    @Mixin
    RunOverrides overrides = new RunOverrides();

    @Override
    public Integer call() throws Exception {
        SpeedrunConfig loaded = overrides.apply(SpeedrunConfig.load(Speedruns.resolve(config)));
        String chosen = tokenizers != null ? tokenizers : tokenizer;
        SpeedrunConfig c = chosen == null ? loaded : loaded.withTokenizers(List.of(chosen));
        List<String> names = c.data().tokenizers();
        PipelineConfig corpus = Speedruns.corpus(data, c.data(), System.err);
        Path outDir = out != null ? out : Speedruns.defaultOut(c.name());
        SpeedrunRunner runner = new SpeedrunRunner(c, corpus, outDir, trainCheckpointMs).ranks(ranks);
        CountDownLatch done = new CountDownLatch(1);
        try (Infrastructure infra = this.infra.start(kafka.bootstrapServers(null), kafka.properties(Map.of()),
                corpus.parallelism() + (3 + ranks) * names.size() + 4)) {
            Thread hook = new Thread(() -> {
                System.err.println("\nsluice: stopping (cancelling jobs, closing Kafka and Flink)...");
                runner.cancelAll();
                infra.close();
                done.countDown();
            }, "sluice-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            System.err.println("Flink Web UI: " + infra.webUrl());
            System.err.println("Kafka: " + infra.bootstrapServers());
            System.err.printf(Locale.ROOT, "speedrun %s: %d steps, %,d tokens per tokenizer (%s); output %s%n", c.name(),
                    c.schedules().totalSteps(), c.schedules().totalTokens(), String.join(", ", names), outDir);
            ObjectNode summary = runner.run(infra, System.err);
            summary.get("runs").fields().forEachRemaining(e -> System.err.printf(Locale.ROOT,
                    "%s: validation bits per byte %.4f (loss %.4f) after %d steps%n", e.getKey(),
                    e.getValue().get("val_bpb").asDouble(), e.getValue().get("val_loss").asDouble(),
                    e.getValue().get("steps").asInt()));
            System.err.println("report: " + outDir.resolve("report.html"));
            System.out.println(summary);
            System.out.flush();
            if (keepUi) {
                System.err.println("the cluster stays up: Flink Web UI at " + infra.webUrl() + " — Ctrl-C to stop");
                done.await();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException exiting) {
                return 130; // Ctrl-C while the UI was kept up: the hook is already closing everything
            }
            runner.cancelAll();
        }
        return 0;
    }
}
