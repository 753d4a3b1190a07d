package dev.sluice.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face tokenizer.json run by the Rust tokenizers library (DJL binding). Unlike {@code gpt2} and
 * {@code marin}, the Rust library always splits special-token strings out of text, so ordinary encoding
 * here turns {@code <|endoftext|>} in the text into its id. Token byte lengths come from the file's vocabulary:
 * byte-level tokens map back through GPT-2's byte alphabet, SentencePiece tokens through '▁' and {@code <0xNN>}.
 */
final class HuggingFaceTokenizer implements Tokenizer {

    private final String name;
    private final ai.djl.huggingface.tokenizers.HuggingFaceTokenizer rust;
    private final Map<String, Integer> specials;
    private final int[] tokenByteLengths;
    private final int bosId;
    private final int eosId;

    HuggingFaceTokenizer(Path file) {
        this.name = "hf:" + file;
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        JsonNode json;
        try {
            this.rust = ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.newInstance(file, options);
            json = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("reading tokenizer file " + file, e);
        }
        Map<String, Integer> vocab = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = json.path("model").path("vocab").fields(); it.hasNext(); ) {
            var e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        Map<String, Integer> special = new LinkedHashMap<>();
        for (JsonNode t : json.path("added_tokens")) {
            vocab.put(t.path("content").asText(), t.path("id").asInt());
            if (t.path("special").asBoolean()) {
                special.put(t.path("content").asText(), t.path("id").asInt());
            }
        }
        this.specials = Map.copyOf(special);
        int size = vocab.values().stream().mapToInt(i -> i + 1).max().orElse(0);
        boolean byteLevel = json.toString().contains("\"ByteLevel\"");
        this.tokenByteLengths = new int[size];
        vocab.forEach((token, id) -> tokenByteLengths[id] = specials.containsKey(token) ? 0 : byteLength(token, byteLevel));
        this.bosId = firstPresent(special, "<|begin_of_text|>", "<s>", "<|endoftext|>", "[CLS]");
        this.eosId = firstPresent(special, "<|end_of_text|>", "</s>", "<|endoftext|>", "[SEP]");
    }

    private static int firstPresent(Map<String, Integer> specials, String... names) {
        for (String n : names) {
            if (specials.containsKey(n)) {
                return specials.get(n);
            }
        }
        return specials.isEmpty() ? 0 : specials.values().iterator().next();
    }

    private static int byteLength(String token, boolean byteLevel) {
        if (byteLevel) {
            return token.codePointCount(0, token.length()); // one char of GPT-2's byte alphabet per byte
        }
        if (token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
            return 1;
        }
        return token.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8).length;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] encode(String text) {
        long[] ids = rust.encode(ValidText.of(text), false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    @Override
    public int[] encode(String text, Set<String> allowedSpecials) {
        return encode(text);
    }

    @Override
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return rust.decode(longs, false);
    }

    @Override
    public byte[] decodeBytes(int[] ids) {
        return decode(ids).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return tokenByteLengths.length;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public Map<String, Integer> specialTokens() {
        return specials;
    }

    @Override
    public int[] tokenByteLengths() {
        return tokenByteLengths.clone();
    }
}
