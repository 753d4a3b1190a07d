package dev.sluice.jobs;

import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.job.TrainJobConfig;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The TrainJob's options, shared by {@code bin/sluice train} and the job jar's {@code train}. */
public final class TrainOptions {

    @Option(names = "--config", required = true, description = "tiny, 150m, ... or a speedrun YAML")
    Path config;

    @Option(names = "--dataset", defaultValue = "demo", description = "the pipeline's dataset name (topic prefix)")
    String dataset;

    @Option(names = "--out", description = "output directory (default: runs/<name>-<time>)")
    Path out;

    @Option(names = "--follow", description = "keep reading while the pipeline writes (default: train on what is there)")
    boolean follow;

    @Option(names = "--checkpoint-interval-ms", defaultValue = "30000", description = "Flink checkpoint interval")
    long checkpointIntervalMs;

    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    public SpeedrunConfig speedrun() {
        return SpeedrunConfig.load(Speedruns.resolve(config));
    }

    /** The job: the speedrun's tokenizer names the topics; fails on a bad config before anything starts. */
    public TrainJobConfig job() {
        SpeedrunConfig c = speedrun();
        Path outDir = out != null ? out : Speedruns.defaultOut(c.name());
        return new TrainJobConfig(c, dataset, outDir.toAbsolutePath().toString(), checkpointIntervalMs, !follow, 0);
    }

    public KafkaOptions kafka() {
        return kafka;
    }
}
