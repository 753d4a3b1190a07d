package dev.sluice.trainer.job;

import dev.sluice.contract.DataContract;
import dev.sluice.trainer.SpeedrunConfig;
import java.io.Serializable;

/**
 * A TrainJob: the speedrun to train, the dataset whose topics it reads, where results go. The speedrun's tokenizer
 * and seq_len complete the {@link #contract() data contract}, so a trainer cannot name a topic of another one.
 *
 * @param speedrun model and training config
 * @param dataset the pipeline's dataset name: the job reads {@code sluice.<dataset>.<tokenizer>.train} and, for
 *     evaluation, its {@code .val} topic
 * @param outDir metrics.jsonl, results.json and the final checkpoint (a path the trainer's TaskManager can write)
 * @param checkpointIntervalMs Flink checkpoint interval (the trainer state is part of every checkpoint)
 * @param bounded stop reading at the topic's end as of job start (train on what the pipeline wrote); otherwise
 *     keep reading while the pipeline writes, until the schedule is done
 * @param failOnceAtStep fault injection for tests: throw once after this step (0: never)
 */
public record TrainJobConfig(SpeedrunConfig speedrun, String dataset, String outDir, long checkpointIntervalMs,
                             boolean bounded, int failOnceAtStep) implements Serializable {

    public TrainJobConfig {
        DataContract.of(dataset, speedrun.train().tokenizer(), speedrun.model().seqLen()); // checks the dataset name
    }

    public DataContract contract() {
        return DataContract.of(dataset, speedrun.train().tokenizer(), speedrun.model().seqLen());
    }

    public String trainTopic() {
        return contract().trainTopic(speedrun.train().tokenizer());
    }

    public String valTopic() {
        return contract().valTopic(speedrun.train().tokenizer());
    }
}
