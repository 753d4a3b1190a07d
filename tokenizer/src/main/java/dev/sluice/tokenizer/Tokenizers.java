package dev.sluice.tokenizer;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/** Finds tokenizers by name: {@code gpt2}, {@code marin}, {@code hf:<path>}, or any registered provider. */
public final class Tokenizers {

    // Loading a vocabulary costs up to a second; every task in a JVM shares one instance per spec.
    private static final Map<String, Tokenizer> CACHE = new ConcurrentHashMap<>();

    private Tokenizers() {}

    /** The tokenizer for a spec such as {@code marin} or {@code hf:/data/tokenizer.json}; cached per JVM. */
    public static Tokenizer load(String spec) {
        return CACHE.computeIfAbsent(spec, Tokenizers::create);
    }

    private static Tokenizer create(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("tokenizer name is empty; known: " + known());
        }
        int colon = spec.indexOf(':');
        String name = colon < 0 ? spec : spec.substring(0, colon);
        String argument = colon < 0 ? null : spec.substring(colon + 1);
        TokenizerProvider provider = providers().get(name);
        if (provider == null) {
            throw new IllegalArgumentException("unknown tokenizer '" + spec + "'; known: " + known());
        }
        return provider.create(argument);
    }

    /** The usage strings of all providers on the class path, sorted: what a user can choose. */
    public static String known() {
        return providers().values().stream().map(TokenizerProvider::usage).collect(Collectors.joining(", "));
    }

    private static Map<String, TokenizerProvider> providers() {
        Map<String, TokenizerProvider> byName = new TreeMap<>();
        for (TokenizerProvider p : ServiceLoader.load(TokenizerProvider.class, Tokenizers.class.getClassLoader())) {
            byName.put(p.name(), p);
        }
        return byName;
    }
}
