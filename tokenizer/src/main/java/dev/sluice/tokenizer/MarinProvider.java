package dev.sluice.tokenizer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.GptBytePairEncodingParams;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
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
        Map<byte[], Integer> ranks = loadRanks("marin.tiktoken");
        Map<String, Integer> specials = loadSpecials("marin-specials.json");
        var params = new GptBytePairEncodingParams("marin", PRE_TOKENIZER, ranks, specials);
        var encoding = Encodings.newLazyEncodingRegistry().registerGptBytePairEncoding(params).getEncoding("marin")
                .orElseThrow();
        return new TiktokenTokenizer("marin", encoding, ORDINARY_RANKS, specials, BEGIN_OF_TEXT, END_OF_TEXT);
    }

    private static Map<byte[], Integer> loadRanks(String resource) {
        Map<byte[], Integer> ranks = new HashMap<>(2 * ORDINARY_RANKS);
        try (var in = new BufferedReader(new InputStreamReader(open(resource), StandardCharsets.US_ASCII))) {
            int lineNo = 0;
            for (String line; (line = in.readLine()) != null; ) {
                lineNo++;
                int space = line.indexOf(' ');
                if (space < 0) {
                    throw new IllegalStateException(resource + " line " + lineNo + ": expected 'base64 rank'");
                }
                ranks.put(Base64.getDecoder().decode(line.substring(0, space)), Integer.parseInt(line.substring(space + 1)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
        if (ranks.size() != ORDINARY_RANKS) {
            throw new IllegalStateException(resource + " holds " + ranks.size() + " ranks, expected " + ORDINARY_RANKS);
        }
        return ranks;
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
