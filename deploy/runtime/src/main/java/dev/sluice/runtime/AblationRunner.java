package dev.sluice.runtime;

import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.trainer.AblationPlan;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.job.Results;
import dev.sluice.trainer.job.TrainJobConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;

/**
 * An ablation on one stream: the TokenizeJob writes the topic once, then one TrainJob per variant and seed reads it
 * from the start (its own consumer group: the same sequences in the same order, the same token budget). At most
 * {@code sideBySide} TrainJobs run at once: on a cluster each in a TaskManager of its own (DJL allows one gradient
 * collector per JVM); in the embedded runtime they take turns. Writes each run's results.json and metrics.jsonl
 * under {@code <out>/<variant>/seed-<s>/}, then {@code ablation.json}, {@code report.html} and its PNG.
 */
public final class AblationRunner {

    /** One TrainJob of the study. */
    private record Run(AblationPlan.Variant variant, long seed, TrainJobConfig job) {}

    private final AblationPlan plan;
    private final PipelineConfig corpus;
    private final Path out;
    private final int sideBySide;
    private final List<Run> runs = new ArrayList<>();
    private final List<JobClient> jobs = new ArrayList<>();

    private AblationRunner(Builder b) {
        this.plan = b.plan;
        this.corpus = b.corpus;
        this.out = b.out;
        this.sideBySide = b.sideBySide;
        for (AblationPlan.Variant v : plan.all()) {
            for (long seed : plan.seedValues()) {
                Path dir = out.resolve(v.dir()).resolve("seed-" + seed).toAbsolutePath();
                runs.add(new Run(v, seed, new TrainJobConfig(plan.run(v, seed), dir.toString(),
                        b.trainCheckpointMs, true)));
            }
        }
    }

    /** A study of the plan, its topic written from the corpus, its runs and report under {@code out}. */
    public static Builder builder(AblationPlan plan, PipelineConfig corpus, Path out) {
        return new Builder(plan, corpus, out);
    }

    /** The study's optional settings: one TrainJob at a time, checkpoints every 20 s, unless set. */
    public static final class Builder {
        private final AblationPlan plan;
        private final PipelineConfig corpus;
        private final Path out;
        private long trainCheckpointMs = 20_000;
        private int sideBySide = 1;

        private Builder(AblationPlan plan, PipelineConfig corpus, Path out) {
            this.plan = plan;
            this.corpus = corpus;
            this.out = out;
        }

        /** The TrainJobs' checkpoint interval. */
        public Builder trainCheckpointMs(long ms) {
            if (ms <= 0) {
                throw new IllegalArgumentException("the checkpoint interval must be > 0 ms, got " + ms);
            }
            this.trainCheckpointMs = ms;
            return this;
        }

        /** How many TrainJobs run at once (on a cluster, one per free task slot). */
        public Builder sideBySide(int runs) {
            if (runs < 1) {
                throw new IllegalArgumentException("side by side must be >= 1, got " + runs);
            }
            this.sideBySide = runs;
            return this;
        }

        public AblationRunner build() {
            return new AblationRunner(this);
        }
    }

    /** Runs the study to the end and writes its report; returns what {@code ablation.json} holds. */
    public Ablation run(Infrastructure infra, PrintStream progress) throws Exception {
        Files.createDirectories(out);
        // the study's data: block decides what is written; checks the corpus and tokenizer before anything starts
        TokenizeJob tokenize = new TokenizeJob(plan.config().data(), corpus);
        long start = System.nanoTime();
        PipelineRunner.Run pipeline = PipelineRunner.of(tokenize, infra).overwrite(true).restartAttempts(3).start();
        jobs.add(pipeline.client());
        progress.println("TokenizeJob submitted: " + String.join(", ", tokenize.topics()));
        pipeline.awaitSummary(); // every run reads the whole topic, as written once
        progress.printf(Locale.ROOT, "topic written in %.0f s; %d runs (%d variants x %d seeds), %d at a time%n",
                (System.nanoTime() - start) / 1e9, runs.size(), plan.all().size(), plan.seeds(), sideBySide);

        Map<AblationPlan.Variant, List<Results>> results = new LinkedHashMap<>();
        long trainStart = System.nanoTime();
        for (int next = 0; next < runs.size(); next += sideBySide) {
            List<Run> batch = runs.subList(next, Math.min(runs.size(), next + sideBySide));
            List<JobClient> clients = new ArrayList<>();
            for (Run r : batch) {
                JobClient client = TrainRunner.start(r.job(), infra, 3);
                jobs.add(client);
                clients.add(client);
            }
            watch(batch, clients, next, trainStart, progress);
            for (int i = 0; i < batch.size(); i++) {
                Results done = TrainRunner.awaitResults(clients.get(i), batch.get(i).job());
                results.computeIfAbsent(batch.get(i).variant(), v -> new ArrayList<>()).add(done);
            }
        }
        progress.println();
        Ablation ablation = Ablation.of(plan, results);
        ablation.write(out);
        Map<String, List<List<StepMetrics>>> curves = new LinkedHashMap<>();
        for (Run r : runs) {
            curves.computeIfAbsent(r.variant().name(), n -> new ArrayList<>()).add(MetricsLog.read(Path.of(r.job().outDir())));
        }
        AblationReport.write(out, ablation, curves);
        return ablation;
    }

    /** A live line per batch of runs: which runs of how many, their steps and the study's ETA. */
    private void watch(List<Run> batch, List<JobClient> clients, int first, long start, PrintStream progress)
            throws Exception {
        long perRun = plan.config().schedules().totalTokens();
        while (true) {
            boolean allDone = true;
            long tokensNow = 0;
            StringBuilder line = new StringBuilder("\r");
            for (int i = 0; i < batch.size(); i++) {
                Run r = batch.get(i);
                Path dir = Path.of(r.job().outDir());
                if (clients.get(i).getJobStatus().get().isGloballyTerminalState() && !Files.exists(Results.file(dir))) {
                    clients.get(i).getJobExecutionResult().get(); // surfaces the job's failure
                    throw new IllegalStateException("TrainJob " + r.job().speedrun().name() + " ended without results");
                }
                allDone &= Files.exists(Results.file(dir));
                List<StepMetrics> m = MetricsLog.read(dir);
                long tokens = m.isEmpty() ? 0 : m.get(m.size() - 1).tokens();
                tokensNow += tokens;
                line.append(String.format(Locale.ROOT, "run %d/%d %s seed %d: step %d/%d  ", first + i + 1,
                        runs.size(), r.variant().name(), r.seed(), m.size(), r.job().speedrun().schedules().totalSteps()));
            }
            // by tokens over the whole study: every run has the same budget
            double done = (double) first * perRun + tokensNow;
            double elapsed = (System.nanoTime() - start) / 1e9;
            double eta = done <= 0 ? 0 : elapsed / done * ((double) runs.size() * perRun - done);
            progress.print(line + String.format(Locale.ROOT, "ETA %dm%02ds   ", (int) eta / 60, (int) eta % 60));
            progress.flush();
            if (allDone) {
                return;
            }
            Thread.sleep(1000);
        }
    }

    /** Cancels whatever is still running (Ctrl-C, or a failure). */
    public void cancelAll() {
        Infrastructure.cancel(jobs);
    }
}
