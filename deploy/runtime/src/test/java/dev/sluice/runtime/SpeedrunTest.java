package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.Micro;
import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.job.Results;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
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

    static PipelineConfig corpus() {
        return YamlConfig.parse("""
                batch_sequences: 8
                val_fraction: 0.05
                parallelism: 2
                checkpoint_interval_ms: 500
                sources:
                  - {name: sotu, paths: ["../../data/corpus/sotu-00000.jsonl.gz"]}
                  - {name: web, paths: ["../../data/corpus/web-00000.jsonl.gz"]}
                """, PipelineConfig.class);
    }

    @Test
    void anAbOfTwoTokenizersTrainsOneModelEachAndReportsTheirBitsPerByteSideBySide() throws Exception {
        var progress = new ByteArrayOutputStream();
        var runner = new SpeedrunRunner(Micro.config("train_tokens: 4608", "train_tokens: 6144",
                "tokenizer: gpt2", "tokenizer: [gpt2, marin]"), corpus(), out, 500);
        ObjectNode summary;
        try (Infrastructure infra = Infrastructure.builder().slots(16).start()) {
            summary = runner.run(infra, new PrintStream(progress, true));
        }
        String shown = progress.toString();
        assertTrue(shown.contains("gpt2: step") && shown.contains("marin: step") && shown.contains("ETA"), shown);
        for (String t : List.of("gpt2", "marin")) {
            JsonNode run = summary.get("runs").get(t);
            assertTrue(run.get("val_bpb").asDouble() > 0, t + ": " + run);
            Path dir = out.resolve(t);
            List<StepMetrics> metrics = MetricsLog.read(dir);
            assertEquals(16, metrics.size(), t);
            assertTrue(metrics.get(15).loss() < metrics.get(0).loss(), t + ": loss fell");
            assertTrue(Files.exists(dir.resolve("checkpoint/checkpoint.bin")));
            assertEquals(t, Results.read(dir).info().tokenizer());
            // the run ends with a savepoint: Flink holds the trained state, whose file is the one recorded
            List<String> checkpoints = Files.readAllLines(dir.resolve("checkpoints.jsonl"));
            JsonNode last = new ObjectMapper().readTree(checkpoints.get(checkpoints.size() - 1));
            assertEquals(16, last.get("step").asInt(), t + ": " + checkpoints);
            assertEquals(last.get("bytes").asLong(), Files.size(Path.of(URI.create(last.get("state_file").asText()))));
            assertTrue(Files.isDirectory(dir.resolve("savepoint")), t);
            assertTrue(shown.contains(t + ": whole steps per pass (memory planner"), shown);
        }
        assertEquals(6144, summary.get("runs").get("gpt2").get("total_tokens").asLong());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("gpt2") && html.contains("marin") && html.contains("curves.png"), html);
        var png = ImageIO.read(out.resolve("curves.png").toFile());
        assertEquals(1000, png.getWidth());
        assertTrue(summary.get("pipeline").get("topics").has("sluice.speedrun-micro.marin.train"), summary.toString());
    }
}
