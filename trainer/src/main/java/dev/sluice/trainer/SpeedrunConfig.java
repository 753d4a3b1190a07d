package dev.sluice.trainer;

import dev.sluice.connectors.config.YamlConfig;
import dev.sluice.tokenizer.Tokenizers;
import java.nio.file.Path;

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
                train(tokenizer, train.batchSchedule(), train.microBatch(), train.device()));
    }

    /** The same run with another batch schedule, micro-batch and device (e.g. a reference config measured on CPU). */
    public SpeedrunConfig withBatchAndDevice(java.util.List<Integer> batchSchedule, int microBatch, String device) {
        return new SpeedrunConfig(name, model, train(train.tokenizer(), batchSchedule, microBatch, device));
    }

    private TrainConfig train(String tokenizer, java.util.List<Integer> batchSchedule, int microBatch, String device) {
        TrainConfig t = train;
        return new TrainConfig(tokenizer, t.tokensPerParam(), t.trainTokens(), batchSchedule, microBatch,
                t.muonLr(), t.muonMomentumStart(), t.muonMomentumEnd(), t.muonMomentumWarmupSteps(), t.muonWeightDecay(),
                t.adamLr(), t.embeddingLrMultiplier(), t.scalarLrMultiplier(), t.adamBeta1(), t.adamBeta2(), t.adamEps(),
                t.adamWeightDecay(), t.cooldownFraction(), t.windowStart(), t.windowBlock(), t.seed(), device, t.dtype(),
                t.evalEvery(), t.evalSequences(), t.peakFlops());
    }

    public long parameters() {
        return model.parameters();
    }

    /** Training tokens: train_tokens, else tokens_per_param · parameters. */
    public long trainTokens() {
        return train.trainTokens() > 0 ? train.trainTokens() : Math.round(train.tokensPerParam() * parameters());
    }

    public Schedules schedules() {
        return Schedules.of(train, model.seqLen(), trainTokens());
    }
}
