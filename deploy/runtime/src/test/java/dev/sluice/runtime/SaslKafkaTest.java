package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.runtime.embedded.EmbeddedKafka;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.Micro;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A speedrun against a broker that only takes SASL/PLAIN clients: every Kafka client of the run (topic admin, the
 * TokenizeJob's transactional producers, the TrainJob's source and dead-letter sink, the pre-flight and evaluation
 * readers) must carry the security settings given once, or it cannot even list the topics.
 */
class SaslKafkaTest {

    @TempDir
    Path out;

    @Test
    void aSpeedrunRunsWhenEveryKafkaClientGetsTheSaslSettings() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.startWithSaslPlain("sluice", "s3cret")) {
            Map<String, String> sasl = Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN",
                    "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required "
                            + "username=\"sluice\" password=\"s3cret\";");
            Properties bare = new Properties();
            bare.put("bootstrap.servers", kafka.saslBootstrapServers());
            bare.put("default.api.timeout.ms", "3000");
            bare.put("request.timeout.ms", "3000");
            try (Admin admin = Admin.create(bare)) {
                assertThrows(Exception.class, () -> admin.listTopics().names().get(5, TimeUnit.SECONDS),
                        "without the settings the listener refuses the client");
            }
            var progress = new ByteArrayOutputStream();
            var runner = new SpeedrunRunner(Micro.config("train_tokens: 4608", "train_tokens: 2304"),
                    SpeedrunTest.corpus(), out, 500);
            ObjectNode summary;
            try (Infrastructure infra = Infrastructure.builder().kafka(kafka.saslBootstrapServers()).kafkaProperties(sasl).slots(8).start()) {
                summary = runner.run(infra, new PrintStream(progress, true));
            }
            assertTrue(summary.get("runs").get("gpt2").get("val_bpb").asDouble() > 0, summary.toString());
            assertEquals(6, MetricsLog.read(out).size(), progress.toString());
        }
    }
}
