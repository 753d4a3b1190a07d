package dev.sluice.runtime.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real Kafka broker (KRaft, combined broker and controller) inside this JVM, on 127.0.0.1. Its log lives in a
 * temporary directory removed on close.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private final Path logDir;
    private final KafkaRaftServer server;
    private final int port;
    private final int saslPort;

    private EmbeddedKafka(Path logDir, KafkaRaftServer server, int port, int saslPort) {
        this.logDir = logDir;
        this.server = server;
        this.port = port;
        this.saslPort = saslPort;
    }

    /** Starts a broker on {@code port} (0 picks a free one). */
    public static EmbeddedKafka start(int port) {
        return start(port, null, null);
    }

    /**
     * A broker that also takes SASL/PLAIN clients ({@code user}/{@code password}) on a listener of its own, as a
     * secured shared cluster would ({@link #saslBootstrapServers}); the broker itself talks over PLAINTEXT.
     */
    public static EmbeddedKafka startWithSaslPlain(String user, String password) {
        return start(0, user, password);
    }

    private static EmbeddedKafka start(int port, String saslUser, String saslPassword) {
        try {
            int brokerPort = port == 0 ? freePort() : port;
            int controllerPort = freePort();
            int saslPort = saslUser == null ? -1 : freePort();
            Path logDir = Files.createTempDirectory("sluice-kafka-");
            Properties p = new Properties();
            p.put("process.roles", "broker,controller");
            p.put("node.id", "1");
            p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
            String sasl = saslUser == null ? "" : ",SASL_PLAINTEXT://127.0.0.1:" + saslPort;
            p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort + sasl);
            p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + sasl);
            p.put("controller.listener.names", "CONTROLLER");
            p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT");
            p.put("inter.broker.listener.name", "PLAINTEXT");
            if (saslUser != null) {
                p.put("sasl.enabled.mechanisms", "PLAIN");
                p.put("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                        "org.apache.kafka.common.security.plain.PlainLoginModule required user_" + saslUser + "=\""
                                + saslPassword + "\";");
            }
            p.put("log.dirs", logDir.toString());
            p.put("num.partitions", "1");
            p.put("offsets.topic.replication.factor", "1");
            p.put("offsets.topic.num.partitions", "4");
            p.put("transaction.state.log.replication.factor", "1");
            p.put("transaction.state.log.min.isr", "1");
            p.put("transaction.state.log.num.partitions", "4");
            p.put("group.initial.rebalance.delay.ms", "0");
            // The Flink KafkaSink asks for long transactions; the default 15 min ceiling would refuse them.
            p.put("transaction.max.timeout.ms", "3600000");
            p.put("message.max.bytes", Integer.toString(64 << 20));
            p.put("log.retention.ms", "-1"); // topics are the replayable record of a run
            p.put("auto.create.topics.enable", "false");
            KafkaConfig config = KafkaConfig.fromProps(p, false);
            String clusterId = Uuid.randomUuid().toString();
            new Formatter()
                    .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
                    .setNodeId(1)
                    .setClusterId(clusterId)
                    .addDirectory(logDir.toString())
                    .setMetadataLogDirectory(logDir.toString())
                    .setControllerListenerName("CONTROLLER")
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .run();
            KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
            server.startup();
            return new EmbeddedKafka(logDir, server, brokerPort, saslPort);
        } catch (Exception e) {
            throw new IllegalStateException("could not start the embedded Kafka broker: " + e.getMessage(), e);
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The SASL/PLAIN listener of a broker started with {@link #startWithSaslPlain}. */
    public String saslBootstrapServers() {
        if (saslPort < 0) {
            throw new IllegalStateException("this broker has no SASL listener");
        }
        return "127.0.0.1:" + saslPort;
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        try (Stream<Path> files = Files.walk(logDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
