package dev.sluice.trainer.job;

import static dev.sluice.contract.config.YamlConfig.require;

import dev.sluice.contract.DataContract;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.Trainer;
import java.io.Serializable;

/**
 * A TrainJob: the speedrun to train and where results go. The speedrun's {@code data:} block names the topics it
 * reads, so a trainer cannot read a topic of another tokenizer or seq_len than it trains with.
 *
 * @param speedrun data, model and training config; its data block names one tokenizer
 * @param outDir metrics.jsonl, results.json and the final checkpoint (a path the trainer's TaskManager can write)
 * @param checkpointIntervalMs Flink checkpoint interval (the trainer state is part of every checkpoint)
 * @param bounded stop reading at the topic's end as of job start (train on what the pipeline wrote); otherwise
 *     keep reading while the pipeline writes, until the schedule is done
 * @param ranks trainer subtasks, one rank of a Gloo group each; every global batch is cut into this many equal shards
 */
public record TrainJobConfig(SpeedrunConfig speedrun, String outDir, long checkpointIntervalMs, boolean bounded,
                             int ranks) implements Serializable {

    /** One rank. */
    public TrainJobConfig(SpeedrunConfig speedrun, String outDir, long checkpointIntervalMs, boolean bounded) {
        this(speedrun, outDir, checkpointIntervalMs, bounded, 1);
    }

    public TrainJobConfig {
        require(speedrun.data().tokenizers().size() == 1, "data.tokenizer",
                "must name one tokenizer for a TrainJob (an A/B runs one TrainJob per tokenizer)",
                speedrun.data().tokenizers());
        require(checkpointIntervalMs > 0, "checkpoint_interval_ms", "must be > 0", checkpointIntervalMs);
        Trainer.requireShardable(speedrun, ranks);
    }

    public TrainJobConfig withRanks(int ranks) {
        return new TrainJobConfig(speedrun, outDir, checkpointIntervalMs, bounded, ranks);
    }

    /** The speedrun's data block: the topics read and the metadata every batch must declare. */
    public DataContract data() {
        return speedrun.data();
    }

    public String trainTopic() {
        return data().topic(DataContract.TRAIN);
    }

    public String valTopic() {
        return data().topic(DataContract.VAL);
    }
}
