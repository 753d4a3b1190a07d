package dev.sluice.trainer.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.sluice.trainer.Flops;
import dev.sluice.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * {@code results.json} in the shape of Marin's speedrun results: one run with its configs, size, tokens, FLOPs and
 * bits-per-byte. Written by the trainer when its schedule is done, read back by the runners and the report through
 * this record only.
 */
public record Results(List<Run> runs) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public record Run(@JsonProperty("run_info") RunInfo runInfo) {}

    /**
     * @param tokenizedDataset the train topic
     * @param trainingHardwareFlops training time × devices × ranks × peak FLOP/s ({@code train.peak_flops}), as Marin
     *     defines it
     * @param ranks the TrainJob's trainer subtasks (Gloo ranks)
     * @param evalBpb the final validation bits-per-byte (absent when the run had no validation rows)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RunInfo(JsonNode modelConfig, JsonNode trainConfig, String name, String tokenizedDataset,
                          String tokenizer, long modelSize, int steps, long totalTokens, long flopsPerToken,
                          double modelFlops, double trainingHardwareFlops, double trainingTime, String device,
                          int ranks,
                          @JsonProperty("eval/bpb") Double evalBpb, @JsonProperty("eval/loss") Double evalLoss,
                          @JsonProperty("eval/tokens") Long evalTokens, @JsonProperty("eval/bytes") Long evalBytes) {}

    static Results of(TrainJobConfig job, Trainer trainer, Trainer.EvalResult eval, double trainingSeconds) {
        var c = job.speedrun();
        long tokens = trainer.schedules().tokensBefore(trainer.step());
        double modelFlops = Flops.modelFlops(c, tokens);
        // Marin's definition: the hardware's capacity over the training time, every device of every rank counted
        double hardwareFlops = trainingSeconds * trainer.devices().size() * trainer.ranks() * c.train().peakFlops();
        return new Results(List.of(new Run(new RunInfo(JSON.valueToTree(c.model()), JSON.valueToTree(c.train()),
                c.name(), job.trainTopic(), c.tokenizer().spec(), c.parameters(), trainer.step(), tokens,
                Flops.perToken(c), modelFlops, hardwareFlops, trainingSeconds, c.train().device(), trainer.ranks(),
                eval == null ? null : eval.bitsPerByte(), eval == null ? null : eval.loss(),
                eval == null ? null : eval.tokens(), eval == null ? null : eval.bytes()))));
    }

    public RunInfo info() {
        return runs.get(0).runInfo();
    }

    public static Path file(Path dir) {
        return dir.resolve("results.json");
    }

    /** Whole or not at all: a runner polling for the file never reads half of it. */
    public void write(Path dir) throws IOException {
        Path tmp = dir.resolve(".results.json.tmp");
        Files.writeString(tmp, JSON.writeValueAsString(this));
        Files.move(tmp, file(dir), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static Results read(Path dir) throws IOException {
        return JSON.readValue(file(dir).toFile(), Results.class);
    }

    @Override
    public String toString() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
