package dev.sluice.jobs;

import dev.sluice.pipeline.PipelineConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Option;

/** Where the topics are and how to reach them: the same options for every command and job that touches Kafka. */
public final class KafkaOptions {

    @Option(names = "--bootstrap-servers", description = "the Kafka cluster (default: the config's, else an embedded "
            + "broker where the command can start one)")
    String bootstrapServers;

    @Option(names = "--kafka-property", paramLabel = "KEY=VALUE",
            description = "passed to every Kafka client (security.protocol, sasl.*, ssl.*); repeatable; overrides "
                    + "the config's kafka.properties")
    Map<String, String> properties = new LinkedHashMap<>();

    /** The bootstrap servers given on the command line, else {@code fallback} (may be null: embed a broker). */
    public String bootstrapServers(String fallback) {
        return bootstrapServers != null ? bootstrapServers : fallback;
    }

    /** The config's client properties with the command line's on top. */
    public Map<String, String> properties(Map<String, String> fromConfig) {
        Map<String, String> all = new LinkedHashMap<>(fromConfig);
        all.putAll(properties);
        return all;
    }

    /** Client properties for a job that runs on a cluster (no config of its own: the TrainJob). */
    public Properties client() {
        return new PipelineConfig.Kafka(bootstrapServers, properties).client();
    }
}
