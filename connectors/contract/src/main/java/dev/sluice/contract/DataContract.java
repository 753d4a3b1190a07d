package dev.sluice.contract;

import static dev.sluice.contract.config.YamlConfig.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.sluice.contract.batch.BatchMeta;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's {@code data:} block, the one owner of what the pipeline writes and a trainer reads: the dataset, the
 * tokenizers (one topic pair each) and the sequence length. Topic names, their prefixes and each topic's batch
 * metadata come from here only; the pipeline's and the speedrun's configs both hold one of these, and a runner that
 * uses both hands each job the speedrun's.
 *
 * @param dataset names the topics: {@code sluice.<dataset>.<tokenizer>.train} and {@code .val}
 * @param tokenizers YAML {@code tokenizer}: {@code gpt2}, {@code marin} or {@code hf:<path to tokenizer.json>} (see
 *     {@link TokenizerId}); several (a list, or comma-separated) make an A/B
 * @param seqLen tokens per training sequence; each row holds seq_len+1 (inputs and shifted targets)
 */
public record DataContract(String dataset, @JsonProperty("tokenizer") List<String> tokenizers, int seqLen)
        implements Serializable {

    public static final String TRAIN = "train";
    public static final String VAL = "val";

    public DataContract {
        require(dataset != null && dataset.matches("[A-Za-z0-9_-]+"), "dataset", "must be letters, digits, '_' or '-'",
                dataset);
        require(tokenizers != null && !tokenizers.isEmpty(), "tokenizer", "must name at least one tokenizer",
                tokenizers);
        tokenizers = parseTokenizers(tokenizers);
        tokenizers.forEach(TokenizerId::of); // checks each is a name
        require(tokenizers.stream().distinct().count() == tokenizers.size(), "tokenizer", "must not repeat a name",
                tokenizers);
        require(seqLen > 0, "seq_len", "must be set, > 0", seqLen);
        tokenizers = List.copyOf(tokenizers);
    }

    public static DataContract of(String dataset, String tokenizer, int seqLen) {
        return new DataContract(dataset, List.of(tokenizer), seqLen);
    }

    /** {@code "gpt2, marin"} as written in a config or on a command line: the names, trimmed. */
    public static List<String> parseTokenizers(List<String> written) {
        List<String> names = new ArrayList<>();
        for (String w : written) {
            for (String name : w.split(",")) {
                if (!name.isBlank()) {
                    names.add(name.trim());
                }
            }
        }
        return names;
    }

    public DataContract withTokenizers(List<String> tokenizers) {
        return new DataContract(dataset, tokenizers, seqLen);
    }

    public DataContract withSeqLen(int seqLen) {
        return new DataContract(dataset, tokenizers, seqLen);
    }

    public DataContract withDataset(String dataset) {
        return new DataContract(dataset, tokenizers, seqLen);
    }

    /** The first (or only) tokenizer's identifier. */
    public TokenizerId tokenizerId() {
        return TokenizerId.of(tokenizer());
    }

    /** The first (or only) tokenizer. */
    public String tokenizer() {
        return tokenizers.get(0);
    }

    /** {@code sluice.<dataset>.<tokenizer>}, the tokenizer by its {@link TokenizerId#safeName() safe name}. */
    public String topicPrefix(String tokenizer) {
        return "sluice." + dataset + "." + TokenizerId.of(tokenizer).safeName();
    }

    /** {@code split} is {@link #TRAIN} or {@link #VAL}. */
    public String topic(String tokenizer, String split) {
        require(split.equals(TRAIN) || split.equals(VAL), "split", "must be train or val", split);
        return topicPrefix(tokenizer) + "." + split;
    }

    /** The topic of {@code split} for the first (or only) tokenizer. */
    public String topic(String split) {
        return topic(tokenizer(), split);
    }

    public String trainTopic(String tokenizer) {
        return topic(tokenizer, TRAIN);
    }

    public String valTopic(String tokenizer) {
        return topic(tokenizer, VAL);
    }

    /** Every topic, train then val per tokenizer. */
    public List<String> topics() {
        List<String> all = new ArrayList<>();
        for (String t : tokenizers) {
            all.add(trainTopic(t));
            all.add(valTopic(t));
        }
        return all;
    }

    /** What every batch in the topics of {@code tokenizer} declares (and a reader requires). */
    public BatchMeta meta(String tokenizer) {
        return BatchMeta.of(TokenizerId.of(tokenizer).load(), seqLen);
    }
}
