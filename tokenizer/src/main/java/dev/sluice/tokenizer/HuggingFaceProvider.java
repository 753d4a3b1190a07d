package dev.sluice.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code hf:<path to tokenizer.json>}: any Hugging Face tokenizer file, through DJL's binding of the Rust library. */
public final class HuggingFaceProvider implements TokenizerProvider {

    @Override
    public String name() {
        return "hf";
    }

    @Override
    public String usage() {
        return "hf:<path to tokenizer.json>";
    }

    @Override
    public Tokenizer create(String argument) {
        if (argument == null || argument.isBlank()) {
            throw new IllegalArgumentException("tokenizer 'hf' needs a file: hf:<path to tokenizer.json>");
        }
        Path file = Path.of(argument);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("tokenizer file " + file.toAbsolutePath() + " does not exist");
        }
        return new HuggingFaceTokenizer(file);
    }
}
