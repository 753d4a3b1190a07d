package dev.sluice.contract;

import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.io.Serializable;

/**
 * A tokenizer chosen by name that Flink can ship to its tasks: only the name travels; each JVM loads the
 * vocabulary once (the registry caches it) the first time a task asks. This is how a job's tokenizer is one
 * config value.
 */
public record TokenizerRef(String spec) implements Serializable {

    /** Fails now, before any job starts, if the name is unknown or the file is missing. */
    public static TokenizerRef checked(String spec) {
        Tokenizers.load(spec);
        return new TokenizerRef(spec);
    }

    public Tokenizer get() {
        return Tokenizers.load(spec);
    }
}
