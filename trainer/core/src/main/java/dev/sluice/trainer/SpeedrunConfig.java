package dev.sluice.trainer;

import dev.sluice.contract.DataContract;
import dev.sluice.contract.TokenizerId;
import dev.sluice.contract.config.YamlConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A speedrun: the data it trains on, the model and how to train it ({@code configs/speedrun/*.yaml}). Loading
 * fills in the vocabulary from the tokenizer (padded to a multiple of 128) when the model leaves it out.
 *
 * @param data the {@code data:} block, the one owner of the dataset, the tokenizer(s) and seq_len: the speedrun's
 *     TokenizeJob writes these topics and its trainers read them; several tokenizers make an A/B (one trainer each)
 */
public record SpeedrunConfig(String name, DataContract data, ModelConfig model, TrainConfig train)
        implements java.io.Serializable {

    public SpeedrunConfig {
        YamlConfig.require(name != null && !name.isBlank(), "name", "must be set", name);
        YamlConfig.require(data != null, "data", "must be set: {dataset, tokenizer, seq_len}", null);
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
        if (model.vocabSize() != null) {
            return this;
        }
        return new SpeedrunConfig(name, data, model.withVocabSize(tokenizer().load().paddedVocabSize()), train);
    }

    /** The tokenizer this run trains with (the first of an A/B's). */
    public TokenizerId tokenizer() {
        return data.tokenizerId();
    }

    /** Tokens per training sequence (each row holds seq_len+1), from the data block. */
    public int seqLen() {
        return data.seqLen();
    }

    /** The same run with another tokenizer: the vocabulary (embedding and lm_head rows) follows it. */
    public SpeedrunConfig withTokenizer(String tokenizer) {
        return withTokenizers(List.of(tokenizer));
    }

    /** An A/B of these tokenizers (or comma-separated lists of them); the vocabulary follows the first. */
    public SpeedrunConfig withTokenizers(List<String> tokenizers) {
        DataContract d = data.withTokenizers(tokenizers);
        return new SpeedrunConfig(name, d, model.withVocabSize(d.tokenizerId().load().paddedVocabSize()), train);
    }

    /** The same run reading another dataset's topics (the {@code train} command's {@code --dataset}). */
    public SpeedrunConfig withDataset(String dataset) {
        return new SpeedrunConfig(name, data.withDataset(dataset), model, train);
    }

    /** The same run with a token budget in tokens (tokens_per_param left out), e.g. a smoke run's or an ablation's. */
    public SpeedrunConfig withTrainTokens(long tokens, Map<String, ?> otherChanges) {
        Map<String, Object> changes = new java.util.HashMap<>(otherChanges);
        changes.put("train_tokens", tokens);
        changes.put("tokens_per_param", YamlConfig.LEFT_OUT);
        return withTrain(changes);
    }

    /** The same data, model and training under another name (an ablation's variant and seed). */
    public SpeedrunConfig named(String name) {
        return new SpeedrunConfig(name, data, model, train);
    }

    /**
     * The same run with some {@code train} fields changed, named as in the YAML (e.g. {@code batch_schedule},
     * {@code micro_batch}, {@code device}), and checked as a loaded file is.
     */
    public SpeedrunConfig withTrain(Map<String, ?> changes) {
        return new SpeedrunConfig(name, data, model, YamlConfig.with(train, changes));
    }

    /** The same run with some {@code model} fields changed, named as in the YAML (e.g. {@code attention}). */
    public SpeedrunConfig withModel(Map<String, ?> changes) {
        return new SpeedrunConfig(name, data, YamlConfig.with(model, changes), train);
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
        return train.trainTokens() != null ? train.trainTokens()
                : (long) Math.floor(train.tokensPerParam() * model.matrixParameters());
    }

    public Schedules schedules() {
        return Schedules.of(train, seqLen(), trainTokens());
    }
}
