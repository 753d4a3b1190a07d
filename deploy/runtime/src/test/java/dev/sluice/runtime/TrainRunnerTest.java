package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.junit.jupiter.api.Test;

/**
 * A stop-with-savepoint whose job ends without an answer (seen in CI: the job FINISHED during the stop and the
 * client's future never completed) must not hang the run; an answer, or a failed stop, still comes through.
 */
class TrainRunnerTest {

    /** A job whose status the test sets; nothing else of it is used. */
    static final class Job implements JobClient {
        volatile JobStatus status = JobStatus.RUNNING;

        @Override
        public JobID getJobID() {
            return new JobID();
        }

        @Override
        public CompletableFuture<JobStatus> getJobStatus() {
            return CompletableFuture.completedFuture(status);
        }

        @Override
        public CompletableFuture<Void> cancel() {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<String> stopWithSavepoint(boolean drain, String dir, SavepointFormatType type) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<String> triggerSavepoint(String dir, SavepointFormatType type) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<Map<String, Object>> getAccumulators() {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<JobExecutionResult> getJobExecutionResult() {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void anAnswerWhileTheJobRunsIsReturned() throws Exception {
        Job job = new Job();
        CompletableFuture<String> answer = new CompletableFuture<>();
        CompletableFuture.delayedExecutor(1500, java.util.concurrent.TimeUnit.MILLISECONDS)
                .execute(() -> answer.complete("file:/savepoint-1"));
        assertEquals("file:/savepoint-1", TrainRunner.whileRunning(job, answer, Duration.ofSeconds(5)));
    }

    @Test
    void aJobThatEndedWithoutAnAnswerIsGivenUpOnAfterTheGrace() throws Exception {
        Job job = new Job();
        job.status = JobStatus.FINISHED;
        long start = System.nanoTime();
        assertNull(TrainRunner.whileRunning(job, new CompletableFuture<String>(), Duration.ofSeconds(2)));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertTrue(seconds >= 2 && seconds < 30, "gave up after the grace, not at once and not never: " + seconds);
    }

    @Test
    void aFailedStopStillFails() {
        Job job = new Job();
        CompletableFuture<String> answer = CompletableFuture.failedFuture(new IllegalStateException("no savepoint"));
        assertThrows(ExecutionException.class, () -> TrainRunner.whileRunning(job, answer, Duration.ofSeconds(5)));
    }
}
