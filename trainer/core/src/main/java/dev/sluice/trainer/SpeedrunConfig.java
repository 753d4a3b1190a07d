package dev.sluice.trainer;

import dev.sluice.contract.config.YamlConfig;
import dev.sluice.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A speedrun: the model and how to train it ({@code configs/speedrun/*.yaml}). Loading fills in the vocabulary
 * from the tokenizer (padded to a multiple of 128) when the model leaves it out.
 */
public record SpeedrunConfig(String name, ModelConfig model, TrainConfig train) implements java.io.Serializable {

    public SpeedrunConfig {
        YamlConfig.require(name != null && !name.isBlank(), "name", "must be set", name);
        YamlConfig.require(model != null, "model", "must be set", null);
        YamlConfig.require(train != null, "train", "must be set", null);
    }

    public static SpeedrunConfig load(Path file) {
        return YamlConfig.load(file, SpeedrunConfig.class).resolved();
    }

    public static SpeedrunConfig parse(String yaml) {
        return YamlConfig.parse(yaml, SpeedrunConfig.class).resolved();
    }

    private SpeedrunConfig resolved() {
        if (model.vocabSize() != 0) {
            return this;
        }
        return new SpeedrunConfig(name, model.withVocabSize(Tokenizers.load(train.tokenizer()).paddedVocabSize()), train);
    }

    /** The same run with another tokenizer: the vocabulary (embedding and lm_head rows) follows it. */
    public SpeedrunConfig withTokenizer(String tokenizer) {
        return new SpeedrunConfig(name, model.withVocabSize(Tokenizers.load(tokenizer).paddedVocabSize()),
                withTrain(Map.of("tokenizer", tokenizer)).train);
    }

    /**
     * The same run with some {@code train} fields changed, named as in the YAML (e.g. {@code batch_schedule},
     * {@code micro_batch}, {@code device}), and checked as a loaded file is.
     */
    public SpeedrunConfig withTrain(Map<String, ?> changes) {
        return new SpeedrunConfig(name, model, YamlConfig.with(train, changes));
    }

    /** The same run with some {@code model} fields changed, named as in the YAML (e.g. {@code attention}). */
    public SpeedrunConfig withModel(Map<String, ?> changes) {
        return new SpeedrunConfig(name, YamlConfig.with(model, changes), train);
    }

    /**
     * The run with where it trains left out ({@code train.device} and {@code train.devices} reset): the part a
     * checkpoint must match, so that state written on N devices restores on one, or on the CPU.
     */
    public SpeedrunConfig withoutPlacement() {
        return withTrain(Map.of("device", "cpu", "devices", List.of()));
    }

    public long parameters() {
        return model.parameters();
    }

    /**
     * The token budget: train_tokens, else int(tokens_per_param · parameters) with the parameters counted as
     * Levanter counts them (without the λ scalars), as Marin's speedruns set their step count.
     */
    public long trainTokens() {
        return train.trainTokens() > 0 ? train.trainTokens()
                : (long) Math.floor(train.tokensPerParam() * model.matrixParameters());
    }

    public Schedules schedules() {
        return Schedules.of(train, model.seqLen(), trainTokens());
    }
}
