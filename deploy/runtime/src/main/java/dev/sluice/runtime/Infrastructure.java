package dev.sluice.runtime;

import dev.sluice.runtime.embedded.EmbeddedFlink;
import dev.sluice.runtime.embedded.EmbeddedKafka;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Where jobs run and data goes: a Kafka cluster and a Flink cluster, each either embedded in this JVM (the
 * default: an in-process KRaft broker and a MiniCluster with the Web UI) or an existing one given by address.
 */
public final class Infrastructure implements AutoCloseable {

    private final EmbeddedKafka embeddedKafka;
    private final EmbeddedFlink embeddedFlink;
    private final String bootstrapServers;
    private final Map<String, String> kafkaProperties;
    private final String flinkHost;
    private final int flinkPort;
    private String checkpointDir;

    private Infrastructure(EmbeddedKafka kafka, EmbeddedFlink flink, String bootstrapServers,
                           Map<String, String> kafkaProperties, String flinkHost, int flinkPort) {
        this.embeddedKafka = kafka;
        this.embeddedFlink = flink;
        this.bootstrapServers = bootstrapServers;
        this.kafkaProperties = Map.copyOf(kafkaProperties);
        this.flinkHost = flinkHost;
        this.flinkPort = flinkPort;
    }

    /**
     * Connects to what is given and embeds what is not, as Flink's {@code KafkaSource.builder()} reads:
     * {@code Infrastructure.builder().kafka("host:9092").slots(8).start()}.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** What to connect to; anything not given is embedded in this JVM. */
    public static final class Builder {
        private String bootstrapServers;
        private Map<String, String> kafkaProperties = Map.of();
        private String jobManager;
        private int webPort = EmbeddedFlink.ANY_FREE_PORT;
        private int slots = 8;
        private boolean allowSubmit;

        private Builder() {}

        /** An existing Kafka cluster ({@code host:port,...}); not given (or null): the embedded broker. */
        public Builder kafka(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
            return this;
        }

        /** Passed to every Kafka client (security.protocol, sasl.*, ssl.*). */
        public Builder kafkaProperties(Map<String, String> properties) {
            this.kafkaProperties = Map.copyOf(properties);
            return this;
        }

        /** {@code host:port} of an existing Flink cluster's REST endpoint; not given (or null): the MiniCluster. */
        public Builder jobManager(String hostPort) {
            this.jobManager = hostPort;
            return this;
        }

        /** The MiniCluster's Web UI port (default: any free port). */
        public Builder webPort(int port) {
            this.webPort = port;
            return this;
        }

        /** The MiniCluster's task slots (default 8). */
        public Builder slots(int slots) {
            if (slots < 1) {
                throw new IllegalArgumentException("slots must be >= 1 (got " + slots + ")");
            }
            this.slots = slots;
            return this;
        }

        /** Let the embedded Web UI accept jar uploads (off by default: any local user could run code). */
        public Builder allowSubmit(boolean allowSubmit) {
            this.allowSubmit = allowSubmit;
            return this;
        }

        public Infrastructure start() {
            return Infrastructure.start(bootstrapServers, kafkaProperties, jobManager, webPort, slots, allowSubmit);
        }
    }

    private static Infrastructure start(String bootstrapServers, Map<String, String> kafkaProperties, String jobManager,
                                       int webPort, int slots, boolean allowSubmit) {
        EmbeddedKafka kafka = null;
        EmbeddedFlink flink = null;
        try {
            if (bootstrapServers == null) {
                kafka = EmbeddedKafka.start(0);
                bootstrapServers = kafka.bootstrapServers();
            }
            String host;
            int port;
            if (jobManager == null) {
                flink = EmbeddedFlink.start(webPort, slots, allowSubmit);
                host = "127.0.0.1";
                port = flink.restPort();
            } else {
                int colon = jobManager.lastIndexOf(':');
                if (colon < 0) {
                    throw new IllegalArgumentException("--jobmanager must be host:port, got '" + jobManager + "'");
                }
                host = jobManager.substring(0, colon);
                port = Integer.parseInt(jobManager.substring(colon + 1));
            }
            return new Infrastructure(kafka, flink, bootstrapServers, kafkaProperties, host, port);
        } catch (RuntimeException e) {
            closeQuietly(flink);
            closeQuietly(kafka);
            throw e;
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /**
     * Where jobs write checkpoints: a URI every TaskManager reaches (a shared file system or object store on a real
     * cluster). Without one, an embedded cluster uses a directory of this user's ({@link #localCheckpointDir}) and
     * an existing cluster its own {@code execution.checkpointing.dir}; one that has none is refused at submit.
     */
    public Infrastructure checkpointDir(String uri) {
        if (uri != null) {
            this.checkpointDir = uri;
        }
        return this;
    }

    /** {@code <tmp>/sluice-<user>/checkpoints}: private to the user, shared by their runs on this host. */
    static String localCheckpointDir() {
        return Path.of(System.getProperty("java.io.tmpdir"), "sluice-" + System.getProperty("user.name"),
                "checkpoints").toUri().toString();
    }

    /** The checkpoint directory jobs submitted here get (also where the trainer's state files go by default). */
    String checkpointDirForJobs() {
        if (checkpointDir != null) {
            return checkpointDir;
        }
        if (isEmbedded()) {
            return localCheckpointDir();
        }
        String clusters = ClusterConfig.fetch(webUrl()).checkpointDir();
        if (clusters == null) {
            throw new IllegalStateException("the Flink cluster at " + webUrl() + " sets no execution.checkpointing.dir"
                    + "; pass --checkpoint-dir URI, a directory every TaskManager reaches (s3://, hdfs://, a shared "
                    + "mount)");
        }
        return clusters;
    }

    public boolean isEmbedded() {
        return embeddedFlink != null;
    }

    /** The Flink Web UI / REST address. */
    public String webUrl() {
        return "http://" + flinkHost + ":" + flinkPort;
    }

    /** Properties for every Kafka client: bootstrap servers plus what the config passes through (security, SASL, TLS). */
    public Properties kafkaClient() {
        Properties p = new Properties();
        p.putAll(kafkaProperties);
        p.put("bootstrap.servers", bootstrapServers);
        return p;
    }

    /**
     * An environment that submits to this Flink cluster over REST. No jars are shipped: the cluster must have
     * Sluice's jars on its class path, as the embedded one (this JVM), {@code sluice cluster} (started from the
     * build's jars) and the Kubernetes image (in /opt/flink/lib) do. Loaded by the parent class loader, DJL's native
     * library then loads once per TaskManager, whatever the job restarts.
     */
    public StreamExecutionEnvironment environment(int restartAttempts) {
        return environment(restartAttempts, null);
    }

    /** An environment whose job starts from {@code savepoint} (a path or URI the JobManager reads), unless null. */
    public StreamExecutionEnvironment environment(int restartAttempts, String savepoint) {
        Configuration conf = new Configuration();
        if (savepoint != null) {
            conf.set(org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        // Checkpoints hold operator state (the sampler's buffer can reach tens of MB): files, not the JobManager's heap.
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDirForJobs());
        if (restartAttempts <= 0) {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        } else {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, restartAttempts);
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, java.time.Duration.ofSeconds(1));
        }
        return StreamExecutionEnvironment.createRemoteEnvironment(flinkHost, flinkPort, conf);
    }

    /** Cancels those of {@code jobs} still running, ignoring failures: for shutting a run down (Ctrl-C, an error). */
    public static void cancel(List<JobClient> jobs) {
        for (JobClient j : jobs) {
            try {
                if (!j.getJobStatus().get().isGloballyTerminalState()) {
                    j.cancel().get();
                }
            } catch (Exception ignored) {
                // shutting down anyway
            }
        }
    }

    @Override
    public void close() {
        closeQuietly(embeddedFlink);
        closeQuietly(embeddedKafka);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // shutting down anyway
            }
        }
    }
}
