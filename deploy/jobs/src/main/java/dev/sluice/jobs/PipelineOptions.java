package dev.sluice.jobs;

import dev.sluice.pipeline.PipelineConfig;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The TokenizeJob's options, shared by {@code bin/sluice pipeline} and the job jar's {@code tokenize}. */
public final class PipelineOptions {

    @Option(names = "--config", required = true, description = "pipeline YAML, e.g. configs/pipeline-demo.yaml")
    Path config;

    @Option(names = "--tokenizer", description = "override the config's tokenizer (gpt2, marin, hf:<file>; "
            + "comma-separated for one topic pair each)")
    String tokenizer;

    @Option(names = "--overwrite", description = "replace topics that already hold batches")
    boolean overwrite;

    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    /** The config as loaded, with the command line's tokenizer and Kafka settings on top; fails before any work. */
    public PipelineConfig config() {
        PipelineConfig c = PipelineConfig.load(config);
        if (tokenizer != null) {
            c = c.withData(c.data().withTokenizers(List.of(tokenizer)));
        }
        return c.withKafka(new PipelineConfig.Kafka(kafka.bootstrapServers(c.kafka().bootstrapServers()),
                kafka.properties(c.kafka().properties())));
    }

    public boolean overwrite() {
        return overwrite;
    }
}
