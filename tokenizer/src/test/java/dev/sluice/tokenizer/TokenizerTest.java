package dev.sluice.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenizerTest {

    @Test
    void gpt2Shape() {
        Tokenizer t = Tokenizers.load("gpt2");
        assertEquals(50257, t.vocabSize());
        assertEquals(50304, t.paddedVocabSize());
        assertEquals(50256, t.bosId());
        assertEquals(50256, t.eosId());
        assertEquals(0, t.tokenByteLengths()[50256]);
        assertEquals(50257, t.tokenByteLengths().length);
    }

    @Test
    void marinShape() {
        Tokenizer t = Tokenizers.load("marin");
        assertEquals(128256, t.vocabSize());
        assertEquals(128256, t.paddedVocabSize());
        assertEquals(128000, t.bosId());
        assertEquals(128001, t.eosId());
        assertEquals(256, t.specialTokens().size());
        assertEquals(128002, t.specialTokens().get("<|start_think|>"));
        int[] lengths = t.tokenByteLengths();
        for (int id = 128000; id < 128256; id++) {
            assertEquals(0, lengths[id]);
        }
        for (int id = 0; id < 128000; id++) {
            assertTrue(lengths[id] > 0, "ordinary token " + id + " has bytes");
        }
    }

    @Test
    void registryCachesAndNamesTheKnownOnesOnError() {
        assertSame(Tokenizers.load("gpt2"), Tokenizers.load("gpt2"));
        var e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load("llama9"));
        assertTrue(e.getMessage().contains("unknown tokenizer 'llama9'"), e.getMessage());
        assertTrue(e.getMessage().contains("gpt2") && e.getMessage().contains("marin") && e.getMessage().contains("hf:"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tokenizers.load("hf:/no/such/tokenizer.json"));
    }

    @Test
    void specialStringsArePlainTextUnlessAllowed() {
        Tokenizer t = Tokenizers.load("marin");
        String text = "Hello<|end_of_text|>world";
        int[] ordinary = t.encode(text);
        assertTrue(Arrays.stream(ordinary).noneMatch(id -> id >= 128000));
        assertEquals(text, t.decode(ordinary));
        int[] allowed = t.encode(text, Set.of("<|end_of_text|>"));
        assertArrayEquals(new int[] {9906, 128001, 14957}, allowed);
        assertEquals(text, t.decode(allowed));
        assertThrows(IllegalArgumentException.class, () -> t.encode(text, Set.of("<|not_special|>")));
    }

    @Test
    void unpairedSurrogatesEncodeAsReplacementCharacter() {
        for (String name : new String[] {"gpt2", "marin"}) {
            Tokenizer t = Tokenizers.load(name);
            assertArrayEquals(t.encode("a\uFFFDb"), t.encode("a\uD800b"), name);
            assertArrayEquals(t.encode("\uFFFD"), t.encode("\uDC00"), name);
            // a valid pair is untouched
            String emoji = "smile \uD83D\uDE00!";
            assertEquals(emoji, t.decode(t.encode(emoji)), name);
        }
    }

    @Test
    void malformedUtf8FromASourceBecomesReplacementCharacters() {
        byte[] bad = {'o', 'k', (byte) 0xC3, ' ', (byte) 0xFF, 'x'};
        String decoded = new String(bad, StandardCharsets.UTF_8);
        Tokenizer t = Tokenizers.load("gpt2");
        assertEquals(decoded, t.decode(t.encode(decoded)));
        assertTrue(decoded.contains("\uFFFD"));
    }

    @Test
    void huggingFaceFileMatchesTiktokenOnOrdinaryText() {
        Tokenizer hf = Tokenizers.load("hf:../data/tokenizers/marin-tokenizer.json");
        Tokenizer marin = Tokenizers.load("marin");
        String text = "In the beginning God created the heaven and the earth. 12345 naïve café — “quotes”\n\n  x";
        assertArrayEquals(marin.encode(text), hf.encode(text));
        assertEquals(text, hf.decode(hf.encode(text)));
        assertEquals(128256, hf.vocabSize());
        assertEquals(128000, hf.bosId());
        assertEquals(128001, hf.eosId());
        assertArrayEquals(marin.tokenByteLengths(), hf.tokenByteLengths());
        Tokenizer hfGpt2 = Tokenizers.load("hf:../data/tokenizers/gpt2-tokenizer.json");
        assertArrayEquals(Tokenizers.load("gpt2").tokenByteLengths(), hfGpt2.tokenByteLengths());
        assertNotEquals(0, hfGpt2.encode(text).length);
    }

    @Test
    void aTextsBytesAreTheBytesItsIdsStandFor() {
        for (String name : new String[] {"gpt2", "marin"}) {
            Tokenizer t = Tokenizers.load(name);
            int[] ids = t.encode("\ud800 lone");
            assertEquals(8, t.byteCount(ids), name + ": U+FFFD's 3 bytes and ' lone'");
            assertEquals("\ufffd lone", t.decode(ids));
            assertEquals(0, t.byteCount(new int[] {t.eosId()}), name + ": a special token counts 0");
        }
    }
}
