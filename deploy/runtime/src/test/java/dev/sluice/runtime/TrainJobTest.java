package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.connectors.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.Micro;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.job.Results;
import dev.sluice.trainer.job.TrainJob;
import dev.sluice.trainer.job.TrainJobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TrainJob on a real broker and MiniCluster, reading what the TokenizeJob wrote: it trains, evaluates,
 * writes results, refuses a topic of the wrong shape, and after an injected failure resumes from its Flink
 * checkpoint with exactly the losses and sequences of a run that never stopped.
 */
class TrainJobTest {

    static Infrastructure infra;
    static PipelineConfig pipeline;

    @TempDir
    Path out;

    @BeforeAll
    static void writeTopics() throws Exception {
        infra = Infrastructure.start(null, Map.of(), null, 0, 8);
        pipeline = YamlConfig.parse("""
                dataset: trainjob
                tokenizer: gpt2
                seq_len: 64
                batch_sequences: 4
                val_fraction: 0.05
                parallelism: 2
                checkpoint_interval_ms: 500
                sources: [{name: sotu, paths: ["../../data/corpus/sotu-00000.jsonl.gz"]}]
                """, PipelineConfig.class);
        PipelineRunner.start(new TokenizeJob(pipeline), infra, false, 0).awaitSummary();
    }

    @AfterAll
    static void stop() {
        infra.close();
    }

    TrainJobConfig job(Path dir, int failAt) {
        return new TrainJobConfig(Micro.config(), pipeline.dataset(), dir.toString(), 150, true, failAt);
    }

    static List<StepMetrics> metrics(Path dir) throws Exception {
        return MetricsLog.read(dir);
    }

    @Test
    void afterAKillAndRestoreTheLossesAndSequencesEqualAnUninterruptedRun() throws Exception {
        Path straightDir = out.resolve("straight");
        TrainJobConfig straight = job(straightDir, 0);
        Path stateDir = out.resolve("state");
        Results results = TrainRunner.awaitResults(TrainRunner.start(new TrainJob(straight)
                .stateFiles(stateDir.toUri().toString(), 2), infra, 0), straight);
        List<StepMetrics> a = metrics(straightDir);
        // the model went to a file per checkpoint; completed checkpoints subsume the older ones' files
        try (var runs = Files.list(stateDir); var files = Files.list(runs.findFirst().orElseThrow())) {
            long left = files.filter(f -> f.getFileName().toString().matches("chk-\\d+\\.bin")).count();
            assertTrue(left >= 1 && left <= 3, left + " state files left");
        }
        assertEquals(12, a.size(), "steps: 4608 tokens / 64 per row / (4+8) rows per round = 6 rounds x 2 phases");
        assertEquals(4, a.get(0).batchSequences());
        assertEquals(8, a.get(11).batchSequences());
        assertTrue(a.get(11).loss() < a.get(0).loss(), "loss fell");
        assertTrue(a.get(3).valBpb() != null && a.get(2).valBpb() == null, "evaluated every 4 steps");
        StepMetrics m = a.get(5);
        assertTrue(m.lr() > 0 && m.muonMomentum() > 0 && m.tokensPerSecond() > 0 && m.flopsPerSecond() > 0, m.toString());
        assertTrue(m.dataWaitFraction() >= 0 && m.dataWaitFraction() < 1, m.toString());
        assertEquals(null, m.mfu(), "micro sets no peak_flops: no MFU");
        Results.RunInfo run = results.info();
        assertEquals(4608, run.totalTokens());
        assertTrue(run.evalBpb() > 0);
        assertEquals(3.0 * run.flopsPerToken() * 4608, run.modelFlops(), 1);
        assertTrue(Files.exists(straightDir.resolve("checkpoint/checkpoint.bin")));

        Path failedDir = out.resolve("failed");
        TrainJobConfig failing = job(failedDir, 7);
        Results resumedResults = TrainRunner.awaitResults(TrainRunner.start(failing, infra, 2), failing);
        assertTrue(Files.exists(failedDir.resolve(".injected-failure")), "the failure was injected");
        String restores = Files.readString(failedDir.resolve("restores.jsonl"));
        int restoredStep = new ObjectMapper().readTree(restores.lines().findFirst().orElseThrow())
                .get("restored_step").asInt();
        System.err.println("injected a failure after step 7; the job restored at step " + restoredStep);
        assertTrue(restoredStep > 0 && restoredStep <= 7, "restored from a checkpoint taken mid-run: " + restores);
        List<StepMetrics> b = metrics(failedDir);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).step(), b.get(i).step());
            assertEquals(a.get(i).loss(), b.get(i).loss(), "loss at step " + i);
            assertEquals(a.get(i).seqIdHash(), b.get(i).seqIdHash(), "sequences of step " + i);
        }
        assertEquals(run.evalBpb(), resumedResults.info().evalBpb());
    }

    @Test
    void aTopicWrittenForAnotherSeqLenIsRefusedBeforeTheFirstStep() {
        SpeedrunConfig other = Micro.config("seq_len: 64", "seq_len: 32");
        var config = new TrainJobConfig(other, pipeline.dataset(), out.toString(), 500,
                true, 0);
        var e = assertThrows(IllegalStateException.class, () -> TrainRunner.start(config, infra, 0));
        assertTrue(e.getMessage().contains("seq_len is 64, expected 32"), e.getMessage());
        var missing = new TrainJobConfig(other, "nothing", out.toString(), 500, true, 0);
        var m = assertThrows(IllegalStateException.class, () -> TrainRunner.start(missing, infra, 0));
        assertTrue(m.getMessage().contains("does not exist"), m.getMessage());
    }
}
