package dev.sluice.tokenizer;

import com.knuddels.jtokkit.api.Encoding;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A byte-level BPE tokenizer in tiktoken's format (GPT-2's r50k_base, the Llama-3/Marin ranks), encoded by our own
 * {@link BytePairEncoder} with a hand-written pre-tokenizer ({@link Splitter}); JTokkit, the reference it must agree
 * with id for id, stays reachable through {@link #jtokkit()} for the benchmark and the agreement test. This class
 * adds what Sluice needs around the encoder: allowed specials, the token byte table, BOS/EOS, and the one
 * invalid-text behaviour of {@link Tokenizer}.
 */
public final class TiktokenTokenizer implements Tokenizer {

    private final String name;
    private final BytePairEncoder encoder;
    private final Supplier<Encoding> reference;
    private Encoding jtokkit;
    private final Map<String, Integer> specials;
    private final Map<Integer, byte[]> specialBytes = new HashMap<>();
    private final int ordinaryRanks;
    private final int vocabSize;
    private final int bosId;
    private final int eosId;
    private final int[] tokenByteLengths;

    TiktokenTokenizer(String name, RankTable ranks, Splitter splitter, Supplier<Encoding> reference,
                      Map<String, Integer> specials, int bosId, int eosId) {
        this.name = name;
        this.encoder = new BytePairEncoder(ranks, splitter);
        this.reference = reference;
        this.specials = Map.copyOf(specials);
        this.ordinaryRanks = ranks.size();
        this.vocabSize = Math.max(ordinaryRanks, specials.values().stream().mapToInt(i -> i + 1).max().orElse(0));
        this.bosId = bosId;
        this.eosId = eosId;
        this.tokenByteLengths = new int[vocabSize];
        for (int id = 0; id < ordinaryRanks; id++) {
            tokenByteLengths[id] = ranks.length(id);
        }
        specials.forEach((s, id) -> specialBytes.put(id, s.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public String name() {
        return name;
    }

    /** JTokkit's encoding of the same ranks and pattern: the reference for the benchmark and the agreement test. */
    public synchronized Encoding jtokkit() {
        if (jtokkit == null) {
            jtokkit = reference.get();
        }
        return jtokkit;
    }

    @Override
    public int[] encode(String text) {
        return encoder.encode(ValidText.of(text));
    }

    @Override
    public int[] encode(String text, Set<String> allowedSpecials) {
        String valid = ValidText.of(text);
        if (allowedSpecials.isEmpty()) {
            return encoder.encode(valid);
        }
        for (String s : allowedSpecials) {
            if (!specials.containsKey(s)) {
                throw new IllegalArgumentException("'" + s + "' is not a special token of " + name);
            }
        }
        int[] out = new int[0];
        int from = 0;
        while (from <= valid.length()) {
            int at = valid.length();
            String found = null;
            for (String s : allowedSpecials) {
                int i = valid.indexOf(s, from);
                if (i >= 0 && (i < at || (i == at && found != null && s.length() > found.length()))) {
                    at = i;
                    found = s;
                }
            }
            out = concat(out, encoder.encode(valid.substring(from, at)));
            if (found == null) {
                break;
            }
            out = concat(out, new int[] {specials.get(found)});
            from = at + found.length();
        }
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Override
    public String decode(int[] ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    @Override
    public byte[] decodeBytes(int[] ids) {
        int length = 0;
        for (int id : ids) {
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("token id " + id + " is outside " + name + "'s vocabulary [0, " + vocabSize + ")");
            }
            length += id < ordinaryRanks ? tokenByteLengths[id] : specialBytes.getOrDefault(id, new byte[0]).length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (int id : ids) {
            if (id < ordinaryRanks) {
                at = encoder.ranks().copyBytes(id, out, at);
            } else {
                byte[] special = specialBytes.getOrDefault(id, new byte[0]);
                System.arraycopy(special, 0, out, at, special.length);
                at += special.length;
            }
        }
        return out;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
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
    public long byteCount(int[] ids) {
        long bytes = 0;
        for (int id : ids) {
            bytes += tokenByteLengths[id];
        }
        return bytes;
    }

    @Override
    public int[] tokenByteLengths() {
        return tokenByteLengths.clone();
    }
}
