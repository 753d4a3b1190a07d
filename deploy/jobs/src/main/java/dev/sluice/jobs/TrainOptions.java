package dev.sluice.jobs;

import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.job.TrainJob;
import dev.sluice.trainer.job.TrainJobConfig;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The TrainJob's options, shared by {@code bin/sluice train} and the job jar's {@code train}. */
public final class TrainOptions {

    @Option(names = "--config", required = true, description = "tiny, 150m, ... or a speedrun YAML")
    Path config;

    @Option(names = "--dataset", description = "the dataset whose topics to read, when not the config's data.dataset")
    String dataset;

    @Option(names = "--out", description = "output directory (default: runs/<name>-<time>)")
    Path out;

    @Option(names = "--follow", description = "keep reading while the pipeline writes (default: train on what is there)")
    boolean follow;

    @Option(names = "--checkpoint-interval-ms", defaultValue = "30000", description = "Flink checkpoint interval")
    long checkpointIntervalMs;

    @Option(names = "--state-dir", description = "where the trainer's model and optimizer state go at each Flink "
            + "checkpoint (file://, s3://, hdfs://; default: the job's checkpoint directory, else <out>/trainer-state)")
    String stateDir;

    @Option(names = "--state-files-retained", defaultValue = "2",
            description = "completed checkpoints whose trainer state files are kept")
    int stateFilesRetained;

    @Option(names = "--ranks", defaultValue = "1", description = "trainer subtasks, one Gloo rank each; every batch "
            + "is cut into this many equal shards (cpu; docs/ranks.md)")
    int ranks;

    @Option(names = "--rank-timeout-s", defaultValue = "120", description = "seconds a rank waits for the others "
            + "(rendezvous, all-reduce) before the job fails; below Flink's task.cancellation.timeout (180 s)")
    long rankTimeoutSeconds;

    @Option(names = "--rank-store-dir", description = "where ranks meet (Gloo's file store): a directory every rank "
            + "can write, a shared volume across hosts (default: <out>/ranks)")
    String rankStoreDir;

    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    @Mixin
    RunOverrides overrides = new RunOverrides();

    public SpeedrunConfig speedrun() {
        SpeedrunConfig c = overrides.apply(SpeedrunConfig.load(Speedruns.resolve(config)));
        return dataset == null ? c : c.withDataset(dataset);
    }

    /** The job: the speedrun's data block names the topics; fails on a bad config before anything starts. */
    public TrainJobConfig job() {
        SpeedrunConfig c = speedrun();
        Path outDir = out != null ? out : Speedruns.defaultOut(c.name());
        return new TrainJobConfig(c, outDir.toAbsolutePath().toString(), checkpointIntervalMs, !follow)
                .withRanks(ranks);
    }

    /** The job to submit, with its state files set. */
    public TrainJob trainJob() {
        return new TrainJob(job()).stateFiles(stateDir, stateFilesRetained).ranks(rankStoreDir,
                Duration.ofSeconds(rankTimeoutSeconds));
    }

    public KafkaOptions kafka() {
        return kafka;
    }
}
