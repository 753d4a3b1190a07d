package dev.sluice.runtime;

import dev.sluice.trainer.job.Results;
import dev.sluice.trainer.job.TrainJob;
import dev.sluice.trainer.job.TrainJobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a TrainJob on some {@link Infrastructure} and reads back its results.json. */
public final class TrainRunner {

    private static final Logger LOG = LoggerFactory.getLogger(TrainRunner.class);
    /** How long a stop may still answer once its job has ended. */
    static final Duration ANSWER_AFTER_END = Duration.ofSeconds(30);

    private TrainRunner() {}

    /** Checks the topic, submits the job (state files in their default place) and returns at once. */
    public static JobClient start(TrainJobConfig config, Infrastructure infra, int restartAttempts) throws Exception {
        return start(new TrainJob(config), infra, restartAttempts);
    }

    public static JobClient start(TrainJob job, Infrastructure infra, int restartAttempts) throws Exception {
        job.preflight(infra.kafkaClient());
        StreamExecutionEnvironment env = infra.environment(restartAttempts);
        job.build(env, infra.kafkaClient());
        return env.executeAsync(job.name());
    }

    /**
     * Waits until the trainer has written results.json (the schedule is done) or the job has ended, then stops an
     * unbounded job that is still reading with a savepoint into {@code <out>/savepoint} (so its last state, the
     * trained model included, is one Flink holds, however short the run); returns the results, or fails if the
     * job failed first.
     */
    public static Results awaitResults(JobClient client, TrainJobConfig config) throws Exception {
        Path results = Results.file(Path.of(config.outDir()));
        while (!Files.exists(results)) {
            if (client.getJobStatus().get().isGloballyTerminalState()) {
                client.getJobExecutionResult().get(); // rethrows the job's failure
                if (!Files.exists(results)) {
                    throw new IllegalStateException("the TrainJob ended before its schedule was done: the topic "
                            + config.trainTopic() + " holds fewer sequences than the run needs");
                }
                break;
            }
            Thread.sleep(200);
        }
        if (!client.getJobStatus().get().isGloballyTerminalState()) {
            String savepoint = Path.of(config.outDir(), "savepoint").toUri().toString();
            try {
                String path = whileRunning(client,
                        client.stopWithSavepoint(false, savepoint, SavepointFormatType.CANONICAL), ANSWER_AFTER_END);
                if (path != null) {
                    LOG.info("TrainJob stopped with a savepoint: {}", path);
                } else {
                    LOG.warn("the TrainJob ended as {} while stopping with a savepoint, and Flink never answered"
                            + " the stop: no savepoint of the finished TrainJob", client.getJobStatus().get());
                }
            } catch (ExecutionException e) {
                // the schedule is done and results.json written; what is lost is the savepoint, so say why and
                // make sure the job is gone (a failed stop can also end the job on its own, racing the cancel)
                LOG.warn("no savepoint of the finished TrainJob ({}); cancelling it", e.getCause().toString());
                try {
                    client.cancel().get();
                } catch (ExecutionException cancel) {
                    if (!client.getJobStatus().get().isGloballyTerminalState()) {
                        throw cancel;
                    }
                    LOG.warn("the TrainJob ended as {} after its failed savepoint", client.getJobStatus().get());
                }
            }
        }
        return Results.read(Path.of(config.outDir()));
    }

    /**
     * The stop's answer, or null if the job has ended and none came within {@code grace}. Seen in CI: the
     * job FINISHED during the stop (its schedule done), and the REST client's future never completed, so an unbounded
     * wait hung the caller for good.
     */
    static <T> T whileRunning(JobClient client, CompletableFuture<T> answer, Duration grace) throws Exception {
        long endedAt = -1;
        while (true) {
            try {
                return answer.get(1, TimeUnit.SECONDS);
            } catch (TimeoutException notYet) {
                if (endedAt < 0 && client.getJobStatus().get().isGloballyTerminalState()) {
                    endedAt = System.nanoTime();
                }
                if (endedAt >= 0 && System.nanoTime() - endedAt > grace.toNanos()) {
                    return null;
                }
            }
        }
    }
}
