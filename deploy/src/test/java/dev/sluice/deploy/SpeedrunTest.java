package dev.sluice.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.connectors.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.trainer.SpeedrunConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A shortened speedrun through the real embedded runtime: pipeline and trainers together, then the report. */
class SpeedrunTest {

    @TempDir
    Path out;

    static final String SPEEDRUN = """
            name: e2e
            model: {d_model: 32, n_layers: 2, n_heads: 2, head_dim: 16, seq_len: 64, norm_after_embedding: true,
                    qk_norm: true, rope_fraction: 0.5, attn_scale: 1.35, relu_squared: true, residual_mix: true,
                    backout: true, zero_init: true, logit_softcap: 15, sliding_window: true, rope_rescale: true}
            train: {tokenizer: gpt2, train_tokens: 6144, batch_schedule: [4, 8], muon_lr: 0.05,
                    muon_momentum_start: 0.85, muon_momentum_end: 0.95, muon_momentum_warmup_steps: 4,
                    adam_lr: 0.008, embedding_lr_multiplier: 75, scalar_lr_multiplier: 5, adam_beta1: 0.8,
                    adam_beta2: 0.95, adam_eps: 1.0e-10, cooldown_fraction: 0.4, window_start: 16, window_block: 16,
                    seed: 3, eval_every: 4, eval_sequences: 16}
            """;

    static PipelineConfig corpus() {
        return YamlConfig.parse("""
                batch_sequences: 8
                val_fraction: 0.05
                parallelism: 2
                checkpoint_interval_ms: 500
                sources:
                  - {name: sotu, paths: ["../data/corpus/sotu-00000.jsonl.gz"]}
                  - {name: web, paths: ["../data/corpus/web-00000.jsonl.gz"]}
                """, PipelineConfig.class);
    }

    @Test
    void anAbOfTwoTokenizersTrainsOneModelEachAndReportsTheirBitsPerByteSideBySide() throws Exception {
        var progress = new ByteArrayOutputStream();
        var runner = new SpeedrunRunner(SpeedrunConfig.parse(SPEEDRUN), corpus(), List.of("gpt2", "marin"), out, 500);
        ObjectNode summary;
        try (Infrastructure infra = Infrastructure.start(null, Map.of(), null, 0, 16)) {
            summary = runner.run(infra, new PrintStream(progress, true));
        }
        String shown = progress.toString();
        assertTrue(shown.contains("gpt2: step") && shown.contains("marin: step") && shown.contains("ETA"), shown);
        for (String t : List.of("gpt2", "marin")) {
            JsonNode run = summary.get("runs").get(t);
            assertTrue(run.get("val_bpb").asDouble() > 0, t + ": " + run);
            Path dir = out.resolve(t);
            List<JsonNode> metrics = Report.readMetrics(dir.resolve("metrics.jsonl"));
            assertEquals(16, metrics.size(), t);
            assertTrue(metrics.get(15).get("loss").asDouble() < metrics.get(0).get("loss").asDouble(), t + ": loss fell");
            assertTrue(Files.exists(dir.resolve("results.json")) && Files.exists(dir.resolve("checkpoint/checkpoint.bin")));
            assertEquals(t, new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("results.json")
                    .toFile()).get("runs").get(0).get("run_info").get("tokenizer").asText());
        }
        assertEquals(6144, summary.get("runs").get("gpt2").get("total_tokens").asLong());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("gpt2") && html.contains("marin") && html.contains("curves.png"), html);
        var png = ImageIO.read(out.resolve("curves.png").toFile());
        assertEquals(1000, png.getWidth());
        assertTrue(summary.get("pipeline").get("topics").has("sluice.speedrun-e2e.marin.train"));
    }
}
