package dev.sluice.cli;

import dev.sluice.runtime.Infrastructure;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where a command's jobs run: an existing Flink cluster, or the embedded MiniCluster and its Web UI port. */
final class InfraOptions {

    @Option(names = "--jobmanager", description = "host:port of an existing Flink cluster's REST endpoint "
            + "(default: an embedded MiniCluster with the Web UI)")
    String jobManager;

    @Option(names = "--web-port", defaultValue = "8081", description = "the embedded Flink Web UI port (0: any free)")
    int webPort;

    @Option(names = "--checkpoint-dir", description = "where the jobs' checkpoints go, a URI every TaskManager "
            + "reaches (s3://, hdfs://, file:// on a shared mount). Default: the cluster's execution.checkpointing.dir "
            + "(refused if it has none); embedded: <tmp>/sluice-<user>/checkpoints")
    String checkpointDir;

    @Option(names = "--allow-submit", description = "let the embedded Flink Web UI accept jar uploads (off: any "
            + "local user could run code in this process)")
    boolean allowSubmit;

    /** Connects to what is given and embeds what is not (a null {@code bootstrapServers}: the embedded broker). */
    Infrastructure start(String bootstrapServers, Map<String, String> kafkaProperties, int slots) {
        return Infrastructure.builder().kafka(bootstrapServers).kafkaProperties(kafkaProperties).jobManager(jobManager)
                .webPort(webPort).slots(slots).allowSubmit(allowSubmit).start().checkpointDir(checkpointDir);
    }
}
