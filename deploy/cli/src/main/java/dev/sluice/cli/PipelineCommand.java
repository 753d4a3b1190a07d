package dev.sluice.cli;

import dev.sluice.jobs.PipelineOptions;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.runtime.Infrastructure;
import dev.sluice.runtime.PipelineRunner;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sluice pipeline --config FILE}: the TokenizeJob on the embedded default or on existing infrastructure. */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = {"Runs the TokenizeJob: corpus shards -> tokenize -> pack -> sample -> Arrow batches -> Kafka.",
                "By default on one JVM: an in-process Kafka broker and a Flink MiniCluster with the Web UI.",
                "A bounded run ends by printing one JSON line summing it up (stdout); logs go to stderr."})
final class PipelineCommand implements Callable<Integer> {

    @Mixin
    PipelineOptions options = new PipelineOptions();

    @Mixin
    InfraOptions infra = new InfraOptions();

    @Option(names = "--keep-ui", description = "keep the embedded cluster and its UI up after a bounded run")
    boolean keepUi;

    @Option(names = "--from-savepoint", paramLabel = "PATH", description = {"resume from this savepoint of an "
            + "earlier run of the same config (any parallelism; partitions, seq_len, tokenizer and shards must match)",
            "its topics are kept as they are; they must still hold what was written before it"})
    String savepoint;

    @Override
    public Integer call() throws Exception {
        PipelineConfig cfg = options.config();
        TokenizeJob job = new TokenizeJob(cfg); // every check happens here, before anything starts
        try (Infrastructure infra = this.infra.start(cfg.kafka().bootstrapServers(), cfg.kafka().properties(),
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
            var run = PipelineRunner.of(job, infra).overwrite(options.overwrite()).restartAttempts(3)
                    .fromSavepoint(savepoint).start();
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
