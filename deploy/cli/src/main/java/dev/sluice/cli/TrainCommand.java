package dev.sluice.cli;

import dev.sluice.runtime.Infrastructure;
import dev.sluice.runtime.TrainRunner;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.job.TrainJobConfig;
import dev.sluice.runtime.Speedruns;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice train --config FILE}: the TrainJob against topics the pipeline wrote. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Runs the TrainJob: KafkaSource of sluice.<dataset>.<tokenizer>.train -> trainer operator.",
                "Needs existing Kafka topics: give --bootstrap-servers (and --jobmanager for an existing Flink "
                        + "cluster). For everything in one JVM, use `sluice speedrun`.",
                "Writes metrics.jsonl, results.json and the checkpoint into --out; prints results.json."})
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, description = "tiny, 150m, ... or a speedrun YAML")
    Path config;

    @Option(names = "--dataset", defaultValue = "demo", description = "the pipeline's dataset name (topic prefix)")
    String dataset;

    @Option(names = "--bootstrap-servers", required = true, description = "the Kafka cluster holding the topics")
    String bootstrapServers;

    @Option(names = "--jobmanager", description = "host:port of an existing Flink cluster (default: a MiniCluster)")
    String jobManager;

    @Option(names = "--web-port", defaultValue = "8081", description = "the embedded Flink Web UI port")
    int webPort;

    @Option(names = "--out", description = "output directory (default: runs/<name>-<time>)")
    Path out;

    @Option(names = "--follow", description = "keep reading while the pipeline writes (default: train on what is there)")
    boolean follow;

    @Option(names = "--checkpoint-interval-ms", defaultValue = "30000")
    long checkpointIntervalMs;

    @Override
    public Integer call() throws Exception {
        SpeedrunConfig c = SpeedrunConfig.load(Speedruns.resolve(config));
        Path outDir = out != null ? out : Speedruns.defaultOut(c.name());
        String tokenizer = c.train().tokenizer();
        var job = new TrainJobConfig(c, PipelineConfig.topicName(dataset, tokenizer, "train"),
                PipelineConfig.topicName(dataset, tokenizer, "val"), outDir.toAbsolutePath().toString(),
                checkpointIntervalMs, !follow, 0);
        try (Infrastructure infra = Infrastructure.start(bootstrapServers, Map.of(), jobManager, webPort, 4)) {
            System.err.println("Flink Web UI: " + infra.webUrl());
            System.err.println("reading " + job.trainTopic() + "; writing " + outDir);
            var client = TrainRunner.start(job, infra, 3);
            System.out.println(TrainRunner.awaitResults(client, job));
        }
        return 0;
    }
}
