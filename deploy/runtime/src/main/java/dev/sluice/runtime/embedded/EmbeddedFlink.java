package dev.sluice.runtime.embedded;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;

/**
 * A Flink MiniCluster with the Web UI, every server bound to 127.0.0.1. Jobs are submitted to it through a
 * remote environment pointed at its REST address, exactly as to a real cluster.
 */
public final class EmbeddedFlink implements AutoCloseable {

    /** A port of 0 asks the OS for any free one (the socket convention; Flink's REST server binds it so). */
    public static final int ANY_FREE_PORT = 0;

    private final MiniCluster cluster;

    private EmbeddedFlink(MiniCluster cluster) {
        this.cluster = cluster;
    }

    /** Starts a cluster whose Web UI listens on {@code uiPort} (0 picks a free one). */
    public static EmbeddedFlink start(int uiPort, int slots, boolean allowSubmit) {
        requireFree(uiPort);
        Configuration conf = new Configuration();
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.PORT, uiPort);
        conf.set(WebOptions.SUBMIT_ENABLE, allowSubmit); // jar upload/run: any local user could run code in this JVM
        conf.set(JobManagerOptions.BIND_HOST, "127.0.0.1");
        conf.set(JobManagerOptions.ADDRESS, "127.0.0.1");
        conf.set(TaskManagerOptions.BIND_HOST, "127.0.0.1");
        conf.set(TaskManagerOptions.HOST, "127.0.0.1");
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
        conf.set(MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, java.time.Duration.ofSeconds(1));
        conf.setString("taskmanager.memory.network.min", "128m");
        conf.setString("taskmanager.memory.network.max", "128m");
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(slots)
                .build());
        try {
            cluster.start();
        } catch (Exception e) {
            throw new IllegalStateException("could not start the Flink MiniCluster: " + e.getMessage(), e);
        }
        return new EmbeddedFlink(cluster);
    }

    /** Flink's own error for a taken port does not name it ("Could not create the DispatcherResourceManagerComponent"). */
    private static void requireFree(int port) {
        if (port == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress("127.0.0.1", port));
        } catch (IOException taken) {
            throw new IllegalStateException("the Flink Web UI port 127.0.0.1:" + port + " is taken (another Sluice run "
                    + "or Flink cluster?): choose another with --web-port N, or --web-port 0 for any free port");
        }
    }

    /** The REST (and Web UI) address, e.g. {@code http://127.0.0.1:8081}. */
    public String webUrl() {
        try {
            return cluster.getRestAddress().get().toString();
        } catch (Exception e) {
            throw new IllegalStateException("MiniCluster has no REST address", e);
        }
    }

    public int restPort() {
        return java.net.URI.create(webUrl()).getPort();
    }

    public MiniCluster cluster() {
        return cluster;
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
