package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.trainer.AblationPlan;
import dev.sluice.trainer.Flops;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.Micro;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.job.Results;
import dev.sluice.trainer.job.TrainJobConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ablation on micro through the embedded runtime: one topic, a TrainJob per variant, the report with every row,
 * each row's cost as its config says, the same sequences for every variant, and the baseline reproduced bit for bit.
 */
class AblationTest {

    @TempDir
    Path out;

    @Test
    void aTwoVariantAblationOnMicroReportsEveryRowAndItsBaselineRepeatsBitForBit() throws Exception {
        PipelineConfig corpus = YamlConfig.parse("""
                data: {dataset: unused, tokenizer: gpt2, seq_len: 64}
                batch_sequences: 4
                val_fraction: 0.05
                parallelism: 2
                checkpoint_interval_ms: 500
                sources: [{name: sotu, paths: ["../../data/corpus/sotu-00000.jsonl.gz"]}]
                """, PipelineConfig.class);
        SpeedrunConfig micro = Micro.config();
        AblationPlan plan = AblationPlan.of(micro, List.of("backout", "residual_mix"), AblationPlan.Mode.DROP, 1);
        try (Infrastructure infra = Infrastructure.builder().slots(8).start()) {
            var progress = new ByteArrayOutputStream();
            // two side by side, then the third: as on a cluster with two free slots (here they share one JVM and
            // take turns in the gradient collector)
            Ablation ablation = AblationRunner.builder(plan, corpus, out).trainCheckpointMs(500).sideBySide(2).build()
                    .run(infra, new PrintStream(progress));
            assertTrue(progress.toString().contains("run 2/3 ") && progress.toString().contains("run 3/3 "),
                    progress.toString());

            assertEquals(ablation, Ablation.read(out), "ablation.json holds what the run returned");
            assertEquals(List.of("baseline", "-backout", "-residual_mix").stream().sorted().toList(),
                    ablation.rows().stream().map(Ablation.Row::name).sorted().toList());
            String html = Files.readString(out.resolve("report.html"));
            for (Ablation.Row r : ablation.rows()) {
                assertTrue(html.contains(">" + r.name() + "<"), r.name());
                assertTrue(Files.exists(out.resolve(r.dir()).resolve("seed-3").resolve("results.json")), r.dir());
                assertTrue(r.valBpbMean() > 0 && r.valBpbStd() == 0 && r.pValue() == null, r.toString());
                assertEquals(r.valBpbMean() - ablation.baseline().valBpbMean(), r.deltaBpb(), 1e-12);
            }
            assertTrue(Files.size(out.resolve("ablation.png")) > 0);
            assertTrue(ablation.variants().get(0).deltaBpb() <= ablation.variants().get(1).deltaBpb(), "sorted by Δ");

            // cost as the config says, from configs written independently of the plan
            for (var expected : Map.of("-backout", Micro.config("backout: true", "backout: false"),
                    "-residual_mix", Micro.config("residual_mix: true", "residual_mix: false"), "baseline", micro)
                    .entrySet()) {
                Ablation.Row r = ablation.rows().stream().filter(x -> x.name().equals(expected.getKey()))
                        .findFirst().orElseThrow();
                assertEquals(expected.getValue().parameters(), r.params(), r.name());
                assertEquals(Flops.perToken(expected.getValue()), r.flopsPerToken(), r.name());
                assertEquals(3.0 * r.flopsPerToken() * 4608, r.modelFlops(), 1, r.name());
                assertEquals(4608, r.tokens());
            }
            assertEquals(micro.parameters() - 1, ablation.rows().stream().filter(r -> r.name().equals("-backout"))
                    .findFirst().orElseThrow().params(), "backout's one λ");

            // every variant trained the same sequences, step for step
            List<StepMetrics> base = MetricsLog.read(out.resolve("baseline/seed-3"));
            for (String dir : List.of("drop-backout", "drop-residual_mix")) {
                List<StepMetrics> other = MetricsLog.read(out.resolve(dir).resolve("seed-3"));
                assertEquals(base.size(), other.size());
                for (int i = 0; i < base.size(); i++) {
                    assertEquals(base.get(i).seqIdHash(), other.get(i).seqIdHash(), dir + " step " + i);
                }
            }

            // the baseline again, on the same topic with the same seed: bit-identical metrics
            TrainJobConfig again = new TrainJobConfig(plan.run(plan.baseline(), 3),
                    out.resolve("again").toString(), 500, true);
            Results repeated = TrainRunner.awaitResults(TrainRunner.start(again, infra, 0), again);
            List<StepMetrics> twice = MetricsLog.read(out.resolve("again"));
            assertEquals(base.size(), twice.size());
            for (int i = 0; i < base.size(); i++) {
                StepMetrics a = base.get(i);
                StepMetrics b = twice.get(i);
                assertEquals(List.of(a.loss(), a.lr(), a.seqIdHash(), String.valueOf(a.valBpb())),
                        List.of(b.loss(), b.lr(), b.seqIdHash(), String.valueOf(b.valBpb())), "step " + i);
            }
            assertEquals(ablation.baseline().valBpb().get(0), repeated.info().evalBpb());
        }
    }

    @Test
    void welchsTestGivesRsPValueAndTheRowsTheirSpread() throws Exception {
        SpeedrunConfig micro = Micro.config();
        AblationPlan plan = AblationPlan.of(micro, List.of("backout"), AblationPlan.Mode.DROP, 3);
        ObjectMapper json = new ObjectMapper();
        Map<AblationPlan.Variant, List<Results>> results = new java.util.LinkedHashMap<>();
        // R: t.test(c(4, 5, 6), c(1, 2, 3)) gives t = 3.6742, df = 4, p-value = 0.02131
        results.put(plan.baseline(), List.of(result(json, 1), result(json, 2), result(json, 3)));
        results.put(plan.variants().get(0), List.of(result(json, 4), result(json, 5), result(json, 6)));
        Ablation a = Ablation.of(plan, results);
        assertNull(a.baseline().pValue());
        Ablation.Row r = a.variants().get(0);
        assertEquals(0.02131, r.pValue(), 5e-5);
        assertEquals(5.0, r.valBpbMean(), 1e-12);
        assertEquals(1.0, r.valBpbStd(), 1e-12, "sample standard deviation");
        assertEquals(3.0, r.deltaBpb(), 1e-12);
    }

    private static Results result(ObjectMapper json, double bpb) throws Exception {
        return json.readValue("""
                {"runs": [{"run_info": {"steps": 12, "total_tokens": 4608, "model_flops": 1.0, "training_time": 2.0,
                 "eval/bpb": %s}}]}""".formatted(bpb), Results.class);
    }
}
