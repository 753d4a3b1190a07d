package dev.sluice.cli;

import dev.sluice.jobs.TrainOptions;
import dev.sluice.runtime.Infrastructure;
import dev.sluice.runtime.TrainRunner;
import dev.sluice.trainer.job.TrainJobConfig;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code sluice train --config FILE}: the TrainJob against topics the pipeline wrote. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Runs the TrainJob: KafkaSource of sluice.<dataset>.<tokenizer>.train -> trainer operator.",
                "Needs existing Kafka topics: give --bootstrap-servers (and --jobmanager for an existing Flink "
                        + "cluster). For everything in one JVM, use `sluice speedrun`.",
                "Writes metrics.jsonl, results.json and the checkpoint into --out; prints results.json."})
final class TrainCommand implements Callable<Integer> {

    @Mixin
    TrainOptions options = new TrainOptions();

    @Mixin
    InfraOptions infra = new InfraOptions();

    @Override
    public Integer call() throws Exception {
        TrainJobConfig job = options.job();
        Properties kafka = options.kafka().client(); // the topics exist only on a given cluster
        Map<String, String> properties = options.kafka().properties(Map.of());
        try (Infrastructure infra = this.infra.start(kafka.getProperty("bootstrap.servers"), properties, 4)) {
            System.err.println("Flink Web UI: " + infra.webUrl());
            System.err.println("reading " + job.trainTopic() + "; writing " + job.outDir());
            var client = TrainRunner.start(options.trainJob(), infra, 3);
            System.out.println(TrainRunner.awaitResults(client, job));
        }
        return 0;
    }
}
