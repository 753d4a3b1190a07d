package dev.sluice.tokenizer;

/**
 * A family of tokenizers that the {@link Tokenizers} registry finds through {@link java.util.ServiceLoader}.
 * A new implementation joins by listing its provider in
 * {@code META-INF/services/dev.sluice.tokenizer.TokenizerProvider}; nothing here needs editing.
 */
public interface TokenizerProvider {

    /** The name before the optional colon: {@code gpt2}, {@code marin}, {@code hf}. */
    String name();

    /** How the name is written in help and error messages, e.g. {@code hf:<path to tokenizer.json>}. */
    default String usage() {
        return name();
    }

    /**
     * Creates the tokenizer.
     *
     * @param argument what followed the colon in the spec, or null when there was none
     */
    Tokenizer create(String argument);
}
