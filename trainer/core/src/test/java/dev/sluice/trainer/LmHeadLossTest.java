package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.sluice.contract.config.YamlConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The chunked lm_head and loss against the whole logits through autograd ({@code model.loss: full}), on GPT-2's and
 * Marin's vocabulary sizes, with chunks small enough that a pass takes several and ends on a partial one: the loss,
 * the per-token losses and every parameter's gradient.
 */
class LmHeadLossTest {

    static final int GPT2_VOCAB = 50_304; // 50,257 padded to a multiple of 128
    static final int MARIN_VOCAB = 128_256;

    /** Loss, per-token losses and gradients of one training pass at {@code scale}. */
    record Result(double loss, float[] tokenLosses, Map<String, float[]> gradients) {}

    static Result run(ModelConfig config, boolean bfloat16, int vocab, double scale) {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
             Gpt model = new Gpt(config, manager, new Precision(DataType.FLOAT32, bfloat16), 7, 7L * vocab)) {
            Models.perturb(model, 3, 0.3);
            SplittableRandom random = new SplittableRandom(11);
            long[] ids = new long[3 * 13];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = random.nextInt(vocab); // targets over the whole vocabulary, the last id included
            }
            ids[5] = vocab - 1;
            NDArray rows = manager.create(ids, new Shape(3, 13));
            AttentionSchedule schedule = model.schedule(12, 2, 4);
            Map<String, float[]> gradients = new LinkedHashMap<>();
            double loss;
            float[] tokenLosses;
            try (NDScope scope = new NDScope();
                 GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                scope.suppressNotUsedWarning();
                Gpt.Pass pass = model.pass(rows, schedule, scale);
                gc.backward(pass.backward());
                loss = pass.loss().getDouble();
                for (Gpt.Param p : model.parameters()) {
                    gradients.put(p.name(), p.value().getGradient().toFloatArray());
                }
            }
            Autograd.off();
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                tokenLosses = model.tokenLosses(rows, schedule).toFloatArray();
            }
            return new Result(loss, tokenLosses, gradients);
        }
    }

    static ModelConfig config(int vocab, double cap, String loss) {
        return YamlConfig.with(Models.allFeatures(), Map.of("vocab_size", vocab, "logit_softcap", cap, "loss", loss));
    }

    static double relativeError(Result a, Result b) {
        return Models.relativeError(a.gradients(), b.gradients());
    }

    void assertChunkedEqualsFull(int vocab, double cap) {
        Result full = run(config(vocab, cap, "full"), false, vocab, 0.25);
        Result chunked = run(config(vocab, cap, "chunked"), false, vocab, 0.25);
        assertEquals(full.loss(), chunked.loss(), 1e-5 * full.loss(), "loss");
        assertArrayEquals(full.tokenLosses(), chunked.tokenLosses(), (float) (1e-5 * full.loss()), "token losses");
        double error = relativeError(chunked, full);
        assertTrue(error < 1e-5, "gradients differ by " + error);
        float[] head = full.gradients().get("lm_head");
        assertTrue(Math.abs(head[(vocab - 1) * 16]) > 0, "the last id's row of lm_head gets a gradient");
    }

    @Test
    void gpt2VocabularySoftCapped() {
        assertChunkedEqualsFull(GPT2_VOCAB, 5.0);
    }

    @Test
    void marinVocabularySoftCapped() {
        assertChunkedEqualsFull(MARIN_VOCAB, 5.0);
    }

    @Test
    void withoutSoftCap() {
        assertChunkedEqualsFull(GPT2_VOCAB, 0);
    }

    @Test
    void bfloat16FollowsTheFullPathWithinBf16Rounding() {
        Result full = run(config(GPT2_VOCAB, 5.0, "full"), true, GPT2_VOCAB, 1);
        Result chunked = run(config(GPT2_VOCAB, 5.0, "chunked"), true, GPT2_VOCAB, 1);
        Result fp32 = run(config(GPT2_VOCAB, 5.0, "chunked"), false, GPT2_VOCAB, 1);
        assertEquals(full.loss(), chunked.loss(), 0.01 * full.loss());
        double error = relativeError(chunked, full);
        assertTrue(error < 0.05, "bf16 chunked gradients differ from bf16 full ones by " + error);
        assertTrue(relativeError(chunked, fp32) > 1e-6, "bf16 ran in float32");
    }
}
