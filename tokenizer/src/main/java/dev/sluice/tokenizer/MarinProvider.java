package dev.sluice.tokenizer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.GptBytePairEncodingParams;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code marin}: the Marin tokenizer, i.e. the Llama-3 BPE (128,000 ranks + 256 specials, 128,256 ids,
 * {@code <|begin_of_text|>} = 128000, {@code <|end_of_text|>} = 128001). The ranks ship in this jar
 * under the Llama 3.1 Community License (see NOTICE).
 */
public final class MarinProvider implements TokenizerProvider {

    static final int ORDINARY_RANKS = 128_000;
    static final int BEGIN_OF_TEXT = 128_000;
    static final int END_OF_TEXT = 128_001;

    /**
     * Llama-3's pre-tokenizer. UNICODE_CHARACTER_CLASS makes \s match what the reference's regex engine
     * calls whitespace (no-break and ideographic spaces), or such runs split differently.
     */
    static final Pattern PRE_TOKENIZER = Pattern.compile(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    @Override
    public String name() {
        return "marin";
    }

    @Override
    public Tokenizer create(String argument) {
        if (argument != null) {
            throw new IllegalArgumentException("tokenizer 'marin' takes no argument, got 'marin:" + argument + "'");
        }
        Map<byte[], Integer> ranks = TiktokenRanks.load(MarinProvider.class, "marin.tiktoken", ORDINARY_RANKS);
        Map<String, Integer> specials = loadSpecials("marin-specials.json");
        // JTokkit with the reference pattern, built only when asked for (the benchmark, the agreement test)
        return new TiktokenTokenizer("marin", new RankTable(ranks), new Splitter.Llama3(), () -> Encodings
                .newLazyEncodingRegistry().registerGptBytePairEncoding(new GptBytePairEncodingParams("marin",
                        PRE_TOKENIZER, TiktokenRanks.load(MarinProvider.class, "marin.tiktoken", ORDINARY_RANKS),
                        specials)).getEncoding("marin").orElseThrow(), specials, BEGIN_OF_TEXT, END_OF_TEXT);
    }

    private static Map<String, Integer> loadSpecials(String resource) {
        try (InputStream in = open(resource)) {
            return new ObjectMapper().readValue(in, new TypeReference<Map<String, Integer>>() {});
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }

    private static InputStream open(String resource) {
        InputStream in = MarinProvider.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("resource " + resource + " is missing from the sluice-tokenizer jar");
        }
        return in;
    }
}
