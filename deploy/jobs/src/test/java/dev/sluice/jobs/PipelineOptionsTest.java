package dev.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PipelineOptionsTest {

    @TempDir
    Path dir;

    @Test
    void theConfigsKafkaSectionReachesTheClientsWithTheCommandLineOnTop() throws Exception {
        Path config = dir.resolve("p.yaml");
        Files.writeString(config, """
                data: {dataset: d, tokenizer: gpt2, seq_len: 64}
                sources: [{name: a, paths: [x]}]
                kafka:
                  bootstrap_servers: from-config:9092
                  properties: {security.protocol: SASL_SSL, sasl.mechanism: PLAIN}
                """);
        PipelineOptions o = new PipelineOptions();
        new CommandLine(o).parseArgs("--config", config.toString(), "--tokenizer", "gpt2,marin",
                "--kafka-property", "sasl.mechanism=SCRAM-SHA-512");
        Properties client = o.config().kafka().client();
        assertEquals("from-config:9092", client.get("bootstrap.servers"));
        assertEquals("SASL_SSL", client.get("security.protocol"));
        assertEquals("SCRAM-SHA-512", client.get("sasl.mechanism"));
        assertEquals(List.of("gpt2", "marin"), o.config().data().tokenizers());

        new CommandLine(o).parseArgs("--config", config.toString(), "--bootstrap-servers", "cli:9092");
        assertEquals("cli:9092", o.config().kafka().client().get("bootstrap.servers"));
    }

    @Test
    void aJobWithoutAKafkaClusterFailsBeforeWork() {
        var e = assertThrows(IllegalArgumentException.class, () -> new KafkaOptions().client());
        assertTrue(e.getMessage().contains("--bootstrap-servers"), e.getMessage());
    }
}
