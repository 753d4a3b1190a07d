package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.contract.config.YamlConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The speedrun config's one data block, and defaults that are fields left out, never zeros. */
class SpeedrunConfigTest {

    static void assertRefused(String message, String... replacements) {
        var e = assertThrows(IllegalArgumentException.class, () -> Micro.config(replacements));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void theDataBlockOwnsTheTopicsTheTokenizerAndSeqLen() {
        SpeedrunConfig micro = Micro.config();
        assertEquals(List.of("sluice.speedrun-micro.gpt2.train", "sluice.speedrun-micro.gpt2.val"), micro.data().topics());
        assertEquals(64, micro.seqLen());
        assertEquals(50_304, micro.model().vocabSize(), "left out: gpt2's 50,257 ids padded to a multiple of 128");
        SpeedrunConfig marin = micro.withTokenizer("marin");
        assertEquals(128_256, marin.model().vocabSize(), "the vocabulary follows the tokenizer");
        assertEquals("sluice.speedrun-micro.marin.train", marin.data().topic("train"));
        assertEquals(micro.model().dModel(), marin.model().dModel());
        assertEquals("sluice.other.gpt2.train", micro.withDataset("other").data().topic("train"));
    }

    @Test
    void seqLenAndTheTokenizerHaveNoSecondPlace() {
        var seq = assertThrows(YamlConfig.ConfigException.class,
                () -> Micro.config("  d_model: 32", "  d_model: 32\n  seq_len: 64"));
        assertTrue(seq.getMessage().contains("seq_len") && seq.getMessage().contains("model"), seq.getMessage());
        var tok = assertThrows(YamlConfig.ConfigException.class,
                () -> Micro.config("  eval_every: 4", "  eval_every: 4\n  tokenizer: marin"));
        assertTrue(tok.getMessage().contains("tokenizer") && tok.getMessage().contains("train"), tok.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> SpeedrunConfig.parse(
                java.nio.file.Files.readString(Micro.file()).replaceAll("(?m)^data:.*\n(  .*\n)*", "")));
        assertTrue(none.getMessage().contains("data must be set"), none.getMessage());
    }

    @Test
    void aZeroIsAValueToCheckNotADefault() {
        assertRefused("train.micro_batch must be > 0", "  eval_every: 4", "  eval_every: 4\n  micro_batch: 0");
        assertRefused("vocab_size must be a positive multiple of 128", "  d_model: 32", "  d_model: 32\n  vocab_size: 0");
        assertRefused("give exactly one", "  train_tokens: 4608", "  train_tokens: 4608\n  tokens_per_param: 2.5");
        assertRefused("give exactly one", "  train_tokens: 4608", "");
        SpeedrunConfig micro = Micro.config();
        assertNull(micro.train().microBatch(), "left out: whole steps");
        assertEquals(16, Micro.config("  head_dim: 16\n", "").model().headDim(), "left out: d_model / n_heads");
        SpeedrunConfig smoke = micro.withTrainTokens(1024, java.util.Map.of());
        assertEquals(1024, smoke.trainTokens());
        assertNull(smoke.train().tokensPerParam());
    }
}
