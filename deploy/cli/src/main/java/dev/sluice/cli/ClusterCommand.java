package dev.sluice.cli;

import dev.sluice.contract.config.SluiceHome;
import dev.sluice.runtime.DemoCorpus;
import dev.sluice.runtime.cluster.LocalCluster;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sluice cluster start|stop|status}: the local multi-process Flink + Kafka cluster. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = {"A real cluster on this machine, as separate processes on 127.0.0.1: a Flink session cluster "
                + "(1 JobManager, 2 TaskManagers) and a 3-broker Kafka KRaft cluster, from the build's jars.",
                "start prints the addresses to pass as --jobmanager and --bootstrap-servers; stop ends every process."})
final class ClusterCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "start | stop | status")
    String action;

    @Option(names = "--dir", description = "state, configs and logs (default: runs/local-cluster)")
    Path dir;

    @Option(names = "--base-port", defaultValue = "19000",
            description = "Kafka on base+1..3 (controllers base+11..13), Flink REST/UI on base+81")
    int basePort;

    @Option(names = "--allow-submit", description = "let the Flink Web UI accept jar uploads (off: any local user "
            + "could run code in the cluster)")
    boolean allowSubmit;

    @Override
    public Integer call() throws Exception {
        LocalCluster cluster = new LocalCluster(dir != null ? dir : SluiceHome.dir().resolve("runs/local-cluster"),
                basePort).allowSubmit(allowSubmit);
        switch (action) {
            case "start" -> {
                cluster.start();
                System.out.println(cluster.status());
            }
            case "stop" -> {
                cluster.stop();
                System.out.println(cluster.status());
            }
            case "status" -> System.out.println(cluster.status());
            default -> throw new IllegalArgumentException("unknown action '" + action + "'; known: start, stop, status");
        }
        return 0;
    }
}
