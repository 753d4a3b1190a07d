package dev.sluice.trainer.job;

import dev.sluice.trainer.SpeedrunConfig;
import java.io.Serializable;

/**
 * A TrainJob: the speedrun to train, the topics to read, where results go.
 *
 * @param speedrun model and training config
 * @param trainTopic the pipeline's train topic ({@code sluice.<dataset>.<tokenizer>.train})
 * @param valTopic its validation topic, read once for evaluation
 * @param outDir metrics.jsonl, results.json and the final checkpoint (a path the trainer's TaskManager can write)
 * @param checkpointIntervalMs Flink checkpoint interval (the trainer state is part of every checkpoint)
 * @param bounded stop reading at the topic's end as of job start (train on what the pipeline wrote); otherwise
 *     keep reading while the pipeline writes, until the schedule is done
 * @param failOnceAtStep fault injection for tests: throw once after this step (0: never)
 */
public record TrainJobConfig(SpeedrunConfig speedrun, String trainTopic, String valTopic, String outDir,
                             long checkpointIntervalMs, boolean bounded, int failOnceAtStep) implements Serializable {}
