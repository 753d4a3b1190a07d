package dev.sluice.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.connectors.corpus.CorpusSources;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.runtime.DemoCorpus;
import dev.sluice.runtime.Infrastructure;
import dev.sluice.runtime.PipelineRunner;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * End-to-end TokenizeJob throughput (shards to committed Kafka batches, embedded broker and MiniCluster) against
 * {@link ReferenceRates} measured in the same process with the same number of threads: the bare tokenizer on the
 * same text, and the shards read and tokenized (then also sent to Kafka) without Flink; and {@link FlinkReference},
 * the same reading, tokenizing and sending as the smallest Flink job does them.
 */
public final class PipelineBench {

    /**
     * For the JIT to settle on Flink's and Kafka's hot paths before the measured job, as the references' warm-ups
     * let it settle on theirs (C2 took 0.27 cores during a job after one warm-up epoch, 0.26 after 8 once the
     * tokenizer was fast: 8 epochs then took only 3 s).
     */
    private static final int WARM_UP_EPOCHS = 32;

    private PipelineBench() {}

    public static int run(Path corpus, String tokenizer, int epochs, int parallelism) throws Exception {
        List<String> texts = DemoCorpus.texts(corpus);
        List<Path> shards = CorpusSources.listShards(List.of(corpus.toString()));
        Tokenizer tok = Tokenizers.load(tokenizer);
        ReferenceRates.tokenize(tok, texts, parallelism, 3); // warm-up
        double bareBefore = ReferenceRates.tokenize(tok, texts, parallelism, 5).perSecond();
        ReferenceRates.readAndTokenize(tok, shards, parallelism, 3); // warm-up
        double readBefore = ReferenceRates.readAndTokenize(tok, shards, parallelism, 5).perSecond();

        Run jobRun = null;
        Run flinkRun = null;
        Run produceRun;
        double readBeside;
        try (Infrastructure infra = Infrastructure.builder().slots(parallelism + 2).start()) {
            ReferenceRates.readTokenizeAndProduce(tok, shards, parallelism, 10, infra.kafkaClient()); // warm-up
            produceRun = kafkaReference(tok, shards, parallelism, infra).printed("before the jobs");
            // The warm-up jobs let the JIT settle (the MiniCluster runs in this JVM), as the references' warm-ups do.
            job(infra, tokenizer, corpus, WARM_UP_EPOCHS, parallelism).printed("warm-up");
            flinkReference(tokenizer, corpus, 8, parallelism, infra).printed("warm-up");
            // Twice each, interleaved, the faster counting: a shared host's noise only lowers a rate, and drifts.
            for (int round = 0; round < 2; round++) {
                String run = "run " + (round + 1);
                jobRun = Run.faster(jobRun, job(infra, tokenizer, corpus, epochs, parallelism).printed(run));
                flinkRun = Run.faster(flinkRun,
                        flinkReference(tokenizer, corpus, epochs, parallelism, infra).printed(run));
            }
            // Kafka's cost is what sending adds to reading in the same conditions: the JVM after the jobs, with the
            // MiniCluster and the broker idle in it.
            readBeside = ReferenceRates.readAndTokenize(tok, shards, parallelism, 5).perSecond();
            produceRun = Run.faster(produceRun, kafkaReference(tok, shards, parallelism, infra).printed("after"));
        }
        double bareAfter = ReferenceRates.tokenize(tok, texts, parallelism, 5).perSecond();
        double readAfter = ReferenceRates.readAndTokenize(tok, shards, parallelism, 5).perSecond();
        // the faster of the two measurements is the reference: noise on a shared machine only lowers a rate
        double bare = Math.max(bareBefore, bareAfter);
        double read = Math.max(readBefore, readAfter);
        double pipeline = jobRun.perSecond();
        double produce = produceRun.perSecond();
        double flink = flinkRun.perSecond();
        ObjectNode summary = jobRun.summary();
        ThreadCpu.Breakdown jobCpu = jobRun.cpu();
        ThreadCpu.Breakdown produceCpu = produceRun.cpu();
        ThreadCpu.Breakdown flinkCpu = flinkRun.cpu();

        PrintStream out = System.out;
        out.printf(Locale.ROOT, "corpus %s x %d epochs, %s, %d cores%n", corpus, epochs, tokenizer, parallelism);
        out.printf(Locale.ROOT, "bare tokenizer:  %,.0f tokens/s (%d threads; %,.0f before the pipeline, %,.0f"
                + " after, 5 s each)%n", bare, parallelism, bareBefore, bareAfter);
        out.printf(Locale.ROOT, "read + tokenize (the connectors' shard reader feeding the tokenizer in the same %d"
                + " threads; no Flink, no Kafka): %,.0f tokens/s = %.2f x bare; reading costs %.0f ns of CPU per"
                + " token%n", parallelism, read, read / bare, parallelism * (1 / read - 1 / bare) * 1e9);
        out.printf(Locale.ROOT, "read + tokenize + produce (the same, sending the ids to the embedded broker in"
                + " batches of 64 x 1025 ids as wide as the job writes them, acks=all; no transactions, no Arrow;"
                + " the faster of before and after the jobs): %,.0f tokens/s = %.2f x bare; Kafka"
                + " costs %.0f ns of CPU per token (against read + tokenize just before, beside the idle broker and"
                + " MiniCluster: %,.0f tokens/s)%n", produce, produce / bare,
                parallelism * (1 / produce - 1 / readBeside) * 1e9, readBeside);
        printCoresMeanwhile(out, produceCpu);
        out.printf(Locale.ROOT, "read + tokenize + produce in Flink (the job's reader and tokenizer chained to an"
                + " at-least-once Kafka sink: no packing, sampling, Arrow, exchange or transaction; incl. job start;"
                + " the faster of two runs):"
                + " %,.0f tokens/s = %.2f x read + tokenize + produce%n", flink, flink / produce);
        printCoresMeanwhile(out, flinkCpu);
        out.printf(Locale.ROOT, "pipeline (shards -> committed Kafka batches, incl. job start, after a warm-up job;"
                + " the faster of two runs):"
                + " %,.0f tokens/s%n", pipeline);
        out.printf(Locale.ROOT, "pipeline / bare = %.2f; pipeline / (read + tokenize + produce) = %.2f (what Flink's"
                + " runtime, packing, sampling, Arrow, transactions and their JIT cost); pipeline / the same in Flink"
                + " = %.2f (what packing, sampling, Arrow and transactions cost)%n", pipeline / bare,
                pipeline / produce, pipeline / flink);
        if (jobCpu != null) {
            printCores(out, jobCpu, pipeline * summary.get("seconds").asDouble(), parallelism / bare);
        }
        out.println(summary);
        // the figures of the pipeline goal, per core too (the same work on more cores should scale alike)
        out.printf(Locale.ROOT, "{\"tokenizer\": \"%s\", \"cores\": %d, \"job_tokens_per_s\": %.0f, "
                + "\"kafka_reference_tokens_per_s\": %.0f, \"ratio_to_kafka_reference\": %.3f, "
                + "\"bare_tokens_per_s\": %.0f, \"read_tokenize_tokens_per_s\": %.0f, "
                + "\"job_tokens_per_s_per_core\": %.0f, \"flink_reference_tokens_per_s\": %.0f, "
                + "\"flink_reference_to_kafka_reference\": %.3f, \"ratio_to_flink_reference\": %.3f}%n", tokenizer,
                parallelism, pipeline, produce, pipeline / produce, bare, read, pipeline / parallelism, flink,
                flink / produce, pipeline / flink);
        return 0;
    }

    /** A measured rate, where the cores went meanwhile (null off Linux), and the job's summary if it was the job. */
    private record Run(String what, double perSecond, ThreadCpu.Breakdown cpu, ObjectNode summary) {
        Run printed(String when) {
            System.out.printf(Locale.ROOT, "%s (%s): %,.0f tokens/s%n", what, when, perSecond);
            return this;
        }

        static Run faster(Run a, Run b) {
            return a == null || b.perSecond() > a.perSecond() ? b : a;
        }
    }

    private static Run flinkReference(String tokenizer, Path corpus, int epochs, int parallelism,
                                      Infrastructure infra) throws Exception {
        ThreadCpu cpu = ThreadCpu.startIfAvailable();
        var rate = FlinkReference.run(new TokenizeJob(config(tokenizer, corpus, epochs, parallelism)), infra);
        return new Run("Flink reference", rate.perSecond(), cpu == null ? null : cpu.stop(), null);
    }

    private static Run kafkaReference(Tokenizer tok, List<Path> shards, int parallelism, Infrastructure infra)
            throws Exception {
        ThreadCpu cpu = ThreadCpu.startIfAvailable();
        var rate = ReferenceRates.readTokenizeAndProduce(tok, shards, parallelism, 10, infra.kafkaClient());
        return new Run("Kafka reference", rate.perSecond(), cpu == null ? null : cpu.stop(), null);
    }

    private static Run job(Infrastructure infra, String tokenizer, Path corpus, int epochs, int parallelism)
            throws Exception {
        var job = new TokenizeJob(config(tokenizer, corpus, epochs, parallelism));
        ThreadCpu cpu = ThreadCpu.startIfAvailable();
        ObjectNode summary = PipelineRunner.of(job, infra).overwrite(true).restartAttempts(0).start().awaitSummary();
        return new Run("TokenizeJob", summary.get("tokens_per_second").asDouble(), cpu == null ? null : cpu.stop(),
                summary);
    }

    /** A reference's cores while it was measured, by component (nothing off Linux). */
    private static void printCoresMeanwhile(PrintStream out, ThreadCpu.Breakdown cpu) {
        if (cpu != null) {
            out.printf(Locale.ROOT, "  cores meanwhile: %.2f%n", cpu.total() / cpu.seconds());
            cpu.cpuSeconds().keySet().forEach(component ->
                    out.printf(Locale.ROOT, "    %-50s %5.2f%n", component, cpu.cores(component)));
        }
    }

    /**
     * Where the cores went during the job, next to what the bare tokenizer would have needed for the same tokens:
     * the gap is the pipeline's own cost per token, which no core count removes.
     */
    private static void printCores(PrintStream out, ThreadCpu.Breakdown cpu, double tokens, double bareCpuPerToken) {
        out.printf(Locale.ROOT, "CPU during the job (cores over %.1f s; threads from /proc, polled every"
                + " 0.2 s):%n", cpu.seconds());
        cpu.cpuSeconds().keySet().forEach(component ->
                out.printf(Locale.ROOT, "  %-50s %5.2f%n", component, cpu.cores(component)));
        double total = cpu.total() / cpu.seconds();
        double bareCores = tokens * bareCpuPerToken / cpu.seconds();
        out.printf(Locale.ROOT, "  %-50s %5.2f%n", "total", total);
        out.printf(Locale.ROOT, "the bare tokenizer would need %.2f cores for these tokens: the pipeline spends"
                + " %.2f cores per core of tokenizing (CPU-time ratio bare / pipeline = %.2f)%n",
                bareCores, total / bareCores, bareCores / total);
        double pipelineNs = cpu.total() / tokens * 1e9;
        double bareNs = bareCpuPerToken * 1e9;
        out.printf(Locale.ROOT, "CPU per token: pipeline %.0f ns, bare tokenizer %.0f ns; the pipeline's own"
                + " work %.0f ns (0.8x of the bare rate would allow %.0f)%n", pipelineNs, bareNs, pipelineNs - bareNs,
                bareNs / 0.8 - bareNs);
    }

    /** The bench's job: 1024-token windows, 64 per batch, one partition, the default split size and checkpoints. */
    static PipelineConfig config(String tokenizer, Path corpus, int epochs, int parallelism) {
        return YamlConfig.parse("""
                data: {dataset: bench, tokenizer: "%s", seq_len: 1024}
                batch_sequences: 64
                seed: 1
                val_fraction: 0.01
                parallelism: %d
                epochs: %d
                sources: [{name: corpus, paths: ["%s"]}]
                """.formatted(tokenizer, parallelism, epochs, corpus), PipelineConfig.class);
    }
}
