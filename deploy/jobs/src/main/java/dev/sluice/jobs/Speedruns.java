package dev.sluice.jobs;

import dev.sluice.contract.DataContract;
import dev.sluice.contract.config.SluiceHome;
import dev.sluice.pipeline.PipelineConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/** Where a speedrun's files are: {@code --config tiny} means {@code configs/speedrun/tiny.yaml}, and its corpus. */
public final class Speedruns {

    private Speedruns() {}

    /** {@code runs/<name>-<yyyyMMdd-HHmmss>} in the Sluice directory. */
    public static Path defaultOut(String name) {
        return SluiceHome.resolve("runs/" + name + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }

    /**
     * The corpus a speedrun or an ablation reads ({@code --data}, default the demo's pipeline config). Its
     * {@code data:} block, if any, is not used (the speedrun's own decides what is written); the line printed says
     * so instead of letting one config silently stand in for the other.
     */
    public static PipelineConfig corpus(Path file, DataContract run, PrintStream log) {
        Path path = file != null ? file : SluiceHome.dir().resolve("configs/pipeline-demo.yaml");
        PipelineConfig corpus = PipelineConfig.load(path);
        if (corpus.hasData() && !corpus.data().equals(run)) {
            log.printf("corpus: the sources of %s, written under the run's data: block (dataset %s, tokenizer %s, "
                    + "seq_len %d), not the file's own%n", file != null ? file : "configs/pipeline-demo.yaml",
                    run.dataset(), String.join(",", run.tokenizers()), run.seqLen());
        }
        return corpus;
    }

    public static Path resolve(Path config) {
        if (Files.exists(config) || config.toString().contains("/") || config.toString().endsWith(".yaml")) {
            return config;
        }
        return SluiceHome.resolve("configs/speedrun/" + config + ".yaml");
    }
}
