package dev.sluice.contract;

import static dev.sluice.contract.config.YamlConfig.require;

import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * A tokenizer as a config names it ({@code gpt2}, {@code marin} or {@code hf:<path to tokenizer.json>}), and the one
 * place its other spellings come from. Flink ships it to tasks as the name only; each JVM loads the vocabulary once
 * (the registry caches it) the first time a task asks.
 *
 * @param spec the name as written in a config or on a command line
 */
public record TokenizerId(String spec) implements Serializable {

    public TokenizerId {
        require(spec != null && !spec.isBlank(), "tokenizer", "must be gpt2, marin or hf:<path to tokenizer.json>",
                spec);
        spec = spec.trim();
    }

    public static TokenizerId of(String spec) {
        return new TokenizerId(spec);
    }

    /** Fails now, before any job starts, if the name is unknown or the file is missing. */
    public static TokenizerId checked(String spec) {
        TokenizerId id = new TokenizerId(spec);
        id.load();
        return id;
    }

    public Tokenizer load() {
        return Tokenizers.load(spec);
    }

    /**
     * The name as it appears in topic names and run directories: letters, digits, '_', '.' and '-' only, so it is
     * valid in both. An {@code hf:} tokenizer is named after its file ({@code hf:/x/llama.json} → {@code hf-llama}).
     */
    public String safeName() {
        String name = spec.startsWith("hf:")
                ? "hf-" + Path.of(spec.substring(3)).getFileName().toString().replaceAll("\\.json$", "")
                : spec;
        return name.replaceAll("[^A-Za-z0-9_.-]", "_");
    }

    @Override
    public String toString() {
        return spec;
    }
}
