package dev.sluice.tokenizer;

import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.IntArrayList;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

/**
 * A byte-level BPE tokenizer in tiktoken's format (GPT-2's r50k_base, the Llama-3/Marin ranks),
 * encoded by JTokkit. This class adds what Sluice needs around it: allowed specials, the token byte
 * table, BOS/EOS, and the one invalid-text behaviour of {@link Tokenizer}.
 */
public final class TiktokenTokenizer implements Tokenizer {

    private final String name;
    private final Encoding encoding;
    private final Map<String, Integer> specials;
    private final int vocabSize;
    private final int bosId;
    private final int eosId;
    private final int[] tokenByteLengths;

    TiktokenTokenizer(String name, Encoding encoding, int ordinaryRanks, Map<String, Integer> specials,
                      int bosId, int eosId) {
        this.name = name;
        this.encoding = encoding;
        this.specials = Map.copyOf(specials);
        this.vocabSize = Math.max(ordinaryRanks, specials.values().stream().mapToInt(i -> i + 1).max().orElse(0));
        this.bosId = bosId;
        this.eosId = eosId;
        this.tokenByteLengths = new int[vocabSize];
        IntArrayList one = new IntArrayList(1);
        one.add(0);
        for (int id = 0; id < ordinaryRanks; id++) {
            one.set(0, id);
            tokenByteLengths[id] = encoding.decodeBytes(one).length;
        }
    }

    @Override
    public String name() {
        return name;
    }

    /** The wrapped JTokkit encoding, for the benchmark that measures what this wrapper costs. */
    public Encoding jtokkit() {
        return encoding;
    }

    @Override
    public int[] encode(String text) {
        return encoding.encodeOrdinary(ValidText.of(text)).toArray();
    }

    @Override
    public int[] encode(String text, Set<String> allowedSpecials) {
        String valid = ValidText.of(text);
        if (allowedSpecials.isEmpty()) {
            return encoding.encodeOrdinary(valid).toArray();
        }
        for (String s : allowedSpecials) {
            if (!specials.containsKey(s)) {
                throw new IllegalArgumentException("'" + s + "' is not a special token of " + name);
            }
        }
        IntArrayList out = new IntArrayList();
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
            appendAll(out, encoding.encodeOrdinary(valid.substring(from, at)));
            if (found == null) {
                break;
            }
            out.add(specials.get(found));
            from = at + found.length();
        }
        return out.toArray();
    }

    private static void appendAll(IntArrayList out, IntArrayList ids) {
        for (int i = 0; i < ids.size(); i++) {
            out.add(ids.get(i));
        }
    }

    @Override
    public String decode(int[] ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    @Override
    public byte[] decodeBytes(int[] ids) {
        IntArrayList list = new IntArrayList(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("token id " + id + " is outside " + name + "'s vocabulary [0, " + vocabSize + ")");
            }
            list.add(id);
        }
        return encoding.decodeBytes(list);
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
    public int[] tokenByteLengths() {
        return tokenByteLengths.clone();
    }
}
