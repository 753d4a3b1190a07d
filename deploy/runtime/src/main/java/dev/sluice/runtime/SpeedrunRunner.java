package dev.sluice.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.TokenizerId;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.Devices;
import dev.sluice.trainer.MemoryPlan;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.job.Results;
import dev.sluice.trainer.job.TrainJobConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.flink.core.execution.JobClient;

/**
 * The whole speedrun on one {@link Infrastructure}: the TokenizeJob writes the corpus for each tokenizer while one
 * TrainJob per tokenizer trains from its topic as batches commit. Shows a live progress line, and at the end
 * writes results, metrics, checkpoints and the report into the output directory.
 */
public final class SpeedrunRunner {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final SpeedrunConfig speedrun;
    private final PipelineConfig corpus;
    private final List<String> tokenizers;
    private final Path out;
    private final long trainCheckpointMs;
    private int ranks = 1;
    private final List<JobClient> jobs = new ArrayList<>();

    /**
     * @param speedrun its {@code data:} block decides what is written and read (dataset, tokenizers, seq_len)
     * @param corpus where the documents come from and how they are packed and sampled
     */
    public SpeedrunRunner(SpeedrunConfig speedrun, PipelineConfig corpus, Path out, long trainCheckpointMs) {
        this.speedrun = speedrun;
        this.tokenizers = speedrun.data().tokenizers();
        this.corpus = corpus;
        this.out = out;
        this.trainCheckpointMs = trainCheckpointMs;
    }

    /** Trainer ranks per TrainJob (default 1): each a subtask of its own, one Gloo group per job. */
    public SpeedrunRunner ranks(int ranks) {
        this.ranks = ranks;
        return this;
    }

    private Path dirOf(String tokenizer) {
        return tokenizers.size() == 1 ? out : out.resolve(TokenizerId.of(tokenizer).safeName());
    }

    /** Runs to the end; returns the summary (per tokenizer: val bpb and the results.json fields). */
    public ObjectNode run(Infrastructure infra, PrintStream progress) throws Exception {
        Files.createDirectories(out);
        // checks the corpus and tokenizers before anything starts
        TokenizeJob tokenize = new TokenizeJob(speedrun.data(), corpus);
        List<TrainJobConfig> trains = new ArrayList<>();
        for (String t : tokenizers) {
            SpeedrunConfig c = plannedMicroBatch(speedrun.withTokenizer(t), progress);
            trains.add(new TrainJobConfig(c, dirOf(t).toAbsolutePath().toString(), trainCheckpointMs, false)
                    .withRanks(ranks));
        }
        long start = System.nanoTime();
        PipelineRunner.Run pipeline = PipelineRunner.of(tokenize, infra).overwrite(true).restartAttempts(3).start();
        jobs.add(pipeline.client());
        progress.println("TokenizeJob submitted: " + String.join(", ", tokenize.topics()));
        waitForFirstBatches(infra, trains);
        List<JobClient> trainClients = new ArrayList<>();
        for (TrainJobConfig t : trains) {
            JobClient client = TrainRunner.start(t, infra, 3);
            jobs.add(client);
            trainClients.add(client);
            progress.println("TrainJob submitted: " + t.speedrun().name() + " on " + t.trainTopic());
        }
        watch(trains, trainClients, pipeline, start, progress);
        ObjectNode pipelineSummary = pipeline.client().getJobStatus().get().isGloballyTerminalState()
                ? pipeline.awaitSummary() : null;

        List<Report.Run> runs = new ArrayList<>();
        ObjectNode summary = JSON.createObjectNode();
        summary.put("name", speedrun.name());
        summary.put("seconds", (System.nanoTime() - start) / 1e9);
        summary.put("out", out.toString());
        ObjectNode per = summary.putObject("runs");
        for (int i = 0; i < trains.size(); i++) {
            TrainJobConfig t = trains.get(i);
            Results results = TrainRunner.awaitResults(trainClients.get(i), t);
            Path dir = Path.of(t.outDir());
            runs.add(new Report.Run(tokenizers.get(i), MetricsLog.read(dir), results));
            Results.RunInfo info = results.info();
            double waitSum = 0;
            double waitMax = 0;
            for (StepMetrics m : runs.get(i).metrics()) {
                waitSum += m.dataWaitFraction();
                waitMax = Math.max(waitMax, m.dataWaitFraction());
            }
            per.putObject(tokenizers.get(i))
                    .put("data_wait_fraction_mean", waitSum / Math.max(1, runs.get(i).metrics().size()))
                    .put("data_wait_fraction_max", waitMax)
                    .put("val_bpb", info.evalBpb())
                    .put("val_loss", info.evalLoss())
                    .put("steps", info.steps())
                    .put("ranks", info.ranks())
                    .put("total_tokens", info.totalTokens())
                    .put("model_flops", info.modelFlops())
                    .put("training_time", info.trainingTime())
                    .put("dir", dir.toString());
        }
        if (pipelineSummary != null) {
            summary.set("pipeline", pipelineSummary);
        }
        Report.write(out, "Sluice speedrun: " + speedrun.name(), runs);
        Files.writeString(out.resolve("summary.json"), summary.toPrettyString());
        return summary;
    }

    /**
     * Where the config leaves the micro-batch to whole steps, the memory planner's: the largest micro-batch with
     * which every trainer of this run fits the device (the gradients accumulate: the same step up to float
     * rounding). On the CPU the trainers share the host's available memory with this JVM's heap and the broker's
     * and Flink's native memory ({@link #CPU_RESERVE_BYTES}). Fails before work when not one sequence fits.
     */
    private SpeedrunConfig plannedMicroBatch(SpeedrunConfig c, PrintStream progress) {
        if (c.train().microBatch() != null) {
            return c;
        }
        long device = Devices.memoryBytes(c.train().device());
        if (device <= 0) {
            return c; // a GPU this JVM does not see: the trainer's own check says so
        }
        boolean cpu = !Devices.parse(c.train().device()).isGpu();
        long budget = (device - (cpu ? Runtime.getRuntime().maxMemory() + CPU_RESERVE_BYTES : 0)) / tokenizers.size();
        int largest = MemoryPlan.largestPass(c.train());
        int micro = MemoryPlan.largestMicroBatch(c, budget);
        if (micro == 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s with %s: one sequence per pass needs "
                    + "%.1f GB, more than the %.1f GB each of %d trainer(s) has on %s (see bin/sluice memory)",
                    c.name(), c.tokenizer().spec(), MemoryPlan.peakOnDevice(c, 1) / 1e9, budget / 1e9, tokenizers.size(),
                    c.train().device()));
        }
        progress.printf(Locale.ROOT, "%s: %s (memory planner: peak %.1f GB of the %.1f GB each of %d trainer(s) has "
                + "on %s)%n", c.tokenizer().spec(), micro >= largest ? "whole steps per pass"
                : "micro-batches of " + micro + " sequences", MemoryPlan.peakOnDevice(c, Math.min(micro, largest)) / 1e9,
                budget / 1e9, tokenizers.size(), c.train().device());
        return micro >= largest ? c : c.withTrain(java.util.Map.of("micro_batch", micro));
    }

    static final long CPU_RESERVE_BYTES = 2L << 30;

    /** The trainers start once their topics hold a first committed batch (the pre-flight check needs one). */
    private void waitForFirstBatches(Infrastructure infra, List<TrainJobConfig> trains) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        for (TrainJobConfig t : trains) {
            while (true) {
                try (var admin = org.apache.kafka.clients.admin.Admin.create(infra.kafkaClient())) {
                    if (dev.sluice.connectors.kafka.KafkaTopics.recordCount(admin, t.trainTopic()) > 0) {
                        break;
                    }
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("no batch reached " + t.trainTopic() + " within 2 minutes");
                }
                Thread.sleep(250);
            }
        }
    }

    private void watch(List<TrainJobConfig> trains, List<JobClient> clients, PipelineRunner.Run pipeline, long start,
                       PrintStream progress) throws Exception {
        while (true) {
            boolean allDone = true;
            StringBuilder line = new StringBuilder("\r");
            for (int i = 0; i < trains.size(); i++) {
                TrainJobConfig t = trains.get(i);
                Path dir = Path.of(t.outDir());
                if (clients.get(i).getJobStatus().get().isGloballyTerminalState() && !Files.exists(Results.file(dir))) {
                    clients.get(i).getJobExecutionResult().get(); // surfaces the job's failure
                    throw new IllegalStateException("TrainJob " + t.trainTopic() + " ended without results");
                }
                allDone &= Files.exists(Results.file(dir));
                line.append(progressOf(t, MetricsLog.read(dir), start,
                        trains.size() > 1 ? tokenizers.get(i) : null));
            }
            progress.print(line + "   ");
            progress.flush();
            if (allDone) {
                progress.println();
                return;
            }
            if (pipeline.client().getJobStatus().get().isGloballyTerminalState()) {
                pipeline.client().getJobExecutionResult().get(); // a failed pipeline fails the run
            }
            Thread.sleep(1000);
        }
    }

    private static String progressOf(TrainJobConfig t, List<StepMetrics> metrics, long start, String label) {
        int total = t.speedrun().schedules().totalSteps();
        String prefix = label == null ? "" : label + ": ";
        if (metrics.isEmpty()) {
            return prefix + "step 0/" + total + " (waiting for data)  ";
        }
        StepMetrics last = metrics.get(metrics.size() - 1);
        int step = last.step() + 1;
        double elapsed = (System.nanoTime() - start) / 1e9;
        // by tokens, not steps: later steps are bigger (the batch-size schedule)
        double done = last.tokens();
        double eta = elapsed / done * (t.speedrun().schedules().totalTokens() - done);
        return String.format(Locale.ROOT, "%sstep %d/%d  loss %.3f  %,.0f tok/s  ETA %dm%02ds  ", prefix, step, total,
                last.loss(), last.tokensPerSecond(), (int) eta / 60, (int) eta % 60);
    }

    /** Cancels whatever is still running (Ctrl-C, or a failure). */
    public void cancelAll() {
        Infrastructure.cancel(jobs);
    }
}
