package dev.sluice.cli;

import dev.sluice.runtime.Infrastructure;
import dev.sluice.runtime.PipelineRunner;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice pipeline --config FILE}: the TokenizeJob on the embedded default or on existing infrastructure. */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = {"Runs the TokenizeJob: corpus shards -> tokenize -> pack -> sample -> Arrow batches -> Kafka.",
                "By default on one JVM: an in-process Kafka broker and a Flink MiniCluster with the Web UI.",
                "A bounded run ends by printing one JSON line summing it up (stdout); logs go to stderr."})
final class PipelineCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, description = "pipeline YAML, e.g. configs/pipeline-demo.yaml")
    Path config;

    @Option(names = "--tokenizer", description = "override the config's tokenizer (gpt2, marin, hf:<file>)")
    String tokenizer;

    @Option(names = "--bootstrap-servers", description = "an existing Kafka cluster instead of the embedded broker")
    String bootstrapServers;

    @Option(names = "--jobmanager", description = "host:port of an existing Flink cluster's REST endpoint")
    String jobManager;

    @Option(names = "--web-port", defaultValue = "8081", description = "the embedded Flink Web UI port (0: any free)")
    int webPort;

    @Option(names = "--overwrite", description = "replace topics that already hold batches")
    boolean overwrite;

    @Option(names = "--keep-ui", description = "keep the embedded cluster and its UI up after a bounded run")
    boolean keepUi;

    @Override
    public Integer call() throws Exception {
        PipelineConfig cfg = PipelineConfig.load(config);
        if (tokenizer != null) {
            cfg = cfg.withTokenizer(tokenizer);
        }
        String bootstrap = bootstrapServers != null ? bootstrapServers : cfg.kafka().bootstrapServers();
        TokenizeJob job = new TokenizeJob(cfg); // every check happens here, before anything starts
        try (Infrastructure infra = Infrastructure.start(bootstrap, cfg.kafka().properties(), jobManager, webPort,
                cfg.parallelism() + 2 * cfg.partitions() + 1)) {
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                infra.close();
                stopped.countDown();
            }, "sluice-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            System.err.println("Flink Web UI: " + infra.webUrl());
            System.err.println("Kafka: " + infra.bootstrapServers());
            System.err.println("writing topics: " + String.join(", ", job.topics()));
            var run = PipelineRunner.start(job, infra, overwrite, 3);
            if (cfg.watchIntervalMs() > 0) {
                System.err.println("watching for new shards every " + cfg.watchIntervalMs() + " ms; Ctrl-C stops");
                stopped.await();
                return 0;
            }
            System.out.println(run.awaitSummary());
            System.out.flush();
            if (keepUi && infra.isEmbedded()) {
                System.err.println("run finished; the UI stays up at " + infra.webUrl() + " until Ctrl-C");
                stopped.await();
            }
            Runtime.getRuntime().removeShutdownHook(hook);
            return 0;
        }
    }
}
