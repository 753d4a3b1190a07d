package dev.sluice.cli;

import dev.sluice.jobs.KafkaOptions;
import dev.sluice.jobs.Speedruns;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.runtime.Ablation;
import dev.sluice.runtime.AblationRunner;
import dev.sluice.runtime.Infrastructure;
import dev.sluice.trainer.AblationPlan;
import dev.sluice.trainer.SpeedrunConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sluice ablate --config ablate}: one topic, one TrainJob per variant and seed, a report with Δ and p. */
@Command(name = "ablate", mixinStandardHelpOptions = true, subcommands = AblateCommand.Compare.class,
        description = {"An ablation study on one stream: the TokenizeJob writes the topic once; a baseline and one "
                + "variant per feature (drop: turn one off; add: turn one on over the plain GPT) each train on the "
                + "same sequences with --seeds initialisation seeds.",
                "Writes ablation.json, report.html and ablation.png into --out, and each run's results.json and "
                        + "metrics.jsonl in <variant>/seed-<s>/."})
final class AblateCommand implements Callable<Integer> {

    @Option(names = "--config", description = "ablate, micro, tiny, ... or a speedrun YAML (default: tiny to drop "
            + "features from, tiny-plain to add them to)")
    Path config;

    @Option(names = "--features", split = ",", description = "model features to ablate, named as in the config "
            + "(default: all of them)")
    List<String> features = List.of();

    @Option(names = "--mode", defaultValue = "drop", description = "drop (baseline: all listed features on; each "
            + "variant turns one off) or add (baseline: all off; each variant turns one on)")
    String mode;

    @Option(names = "--seeds", defaultValue = "1", description = "initialisation seeds per variant (2+ for p-values)")
    int seeds;

    @Option(names = "--side-by-side", description = "TrainJobs at once (default: 1 embedded, where they would take "
            + "turns anyway; on a cluster, its free task slots)")
    Integer sideBySide;

    @Option(names = "--data", description = "pipeline YAML for the corpus (default: configs/pipeline-demo.yaml)")
    Path data;

    @Option(names = "--out", description = "output directory (default: runs/ablate-<name>-<time>)")
    Path out;

    @Option(names = "--train-checkpoint-ms", defaultValue = "20000", description = "trainer checkpoint interval")
    long trainCheckpointMs;

    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    @Mixin
    InfraOptions infra = new InfraOptions();

    @Override
    public Integer call() throws Exception {
        Path base = config != null ? config : Path.of(mode.equals("add") ? "tiny-plain" : "tiny");
        SpeedrunConfig c = SpeedrunConfig.load(Speedruns.resolve(base));
        AblationPlan.Mode m = switch (mode) {
            case "drop" -> AblationPlan.Mode.DROP;
            case "add" -> AblationPlan.Mode.ADD;
            default -> throw new IllegalArgumentException("--mode must be drop or add (got " + mode + ")");
        };
        AblationPlan plan = AblationPlan.of(c, features, m, seeds); // refuses bad lists before anything starts
        PipelineConfig corpus = Speedruns.corpus(data, c.data(), System.err);
        Path outDir = out != null ? out : Speedruns.defaultOut("ablate-" + c.name());
        try (Infrastructure infra = this.infra.start(kafka.bootstrapServers(null), kafka.properties(Map.of()),
                corpus.parallelism() + 8)) {
            int together = sideBySide != null ? sideBySide : infra.isEmbedded() ? 1 : freeSlots(infra.webUrl());
            AblationRunner runner = AblationRunner.builder(plan, corpus, outDir).trainCheckpointMs(trainCheckpointMs)
                    .sideBySide(together).build();
            Thread hook = new Thread(() -> {
                System.err.println("\nsluice: stopping (cancelling jobs, closing Kafka and Flink)...");
                runner.cancelAll();
                infra.close();
            }, "sluice-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            System.err.println("Flink Web UI: " + infra.webUrl());
            System.err.printf(Locale.ROOT, "ablation of %s (%s): %d variants x %d seeds, %d steps each; features: %s; "
                    + "output %s%n", c.name(), mode, plan.all().size(), seeds, c.schedules().totalSteps(),
                    String.join(", ", plan.features().stream().map(f -> f.field).toList()), outDir);
            Ablation result = runner.run(infra, System.err);
            for (Ablation.Row r : result.rows()) {
                System.err.printf(Locale.ROOT, "%-36s val bpb %.4f ± %.4f  Δ %+.4f%s%n", r.name(), r.valBpbMean(),
                        r.valBpbStd(), r.deltaBpb(), r.pValue() == null ? "" : String.format(Locale.ROOT, "  p %.3g",
                                r.pValue()));
            }
            System.err.println("report: " + outDir.resolve("report.html"));
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        return 0;
    }

    /**
     * {@code sluice ablate compare A B}: two studies' baselines side by side with Welch's p, as for the bundle (a
     * drop study of {@code tiny}) against the plain GPT (an add study of {@code tiny-plain}) on the same seeds.
     */
    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = "Compares the baselines of two ablation studies (their --out directories): each one's mean "
                    + "validation bits-per-byte over its seeds, the difference and Welch's two-sided p.")
    static final class Compare implements Callable<Integer> {

        @picocli.CommandLine.Parameters(index = "0", description = "the first study's directory")
        Path first;

        @picocli.CommandLine.Parameters(index = "1", description = "the second study's directory")
        Path second;

        @Override
        public Integer call() throws Exception {
            Ablation a = Ablation.read(first);
            Ablation b = Ablation.read(second);
            for (Ablation study : List.of(a, b)) {
                Ablation.Row r = study.baseline();
                System.out.printf(Locale.ROOT, "%-24s %d seeds  val bpb %.4f ± %.4f  %.0f s per run%n",
                        study.config(), r.valBpb().size(), r.valBpbMean(), r.valBpbStd(), r.seconds());
            }
            Double p = Ablation.welch(a.baseline().valBpb(), b.baseline().valBpb());
            System.out.printf(Locale.ROOT, "Δ %s − %s  %+.4f%s%n", a.config(), b.config(),
                    a.baseline().valBpbMean() - b.baseline().valBpbMean(),
                    p == null ? "" : String.format(Locale.ROOT, "  p %.3g", p));
            return 0;
        }
    }

    /** The cluster's free task slots (Flink's REST /overview), at least 1. */
    private static int freeSlots(String webUrl) throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(webUrl + "/overview")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return Math.max(1, new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).path("slots-available")
                .asInt(1));
    }
}
