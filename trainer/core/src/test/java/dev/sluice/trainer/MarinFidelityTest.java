package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.tokenizer.Tokenizers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The initialisation and weight-decay mask of each scheme against figures computed from the references, not from our
 * code: Haliax's {@code truncated_normal(-3, 3)} times 1/d (Embedding, EmbeddingStandardParam) or 1/√fan_in (Linear,
 * LinearStandardParam); modded-nanogpt's N(0, 1) embedding and uniform linear layers of std 0.5/√fan_in; GPT-2's
 * 0.02 with residual projections at 0.02/√(2L); Levanter's default decay mask, which skips embeddings.
 */
class MarinFidelityTest {

    /** The standard deviation of N(0, 1) truncated to [−3, 3]: √(1 − 2·3·φ(3) / (2Φ(3) − 1)). */
    static final double TRUNCATED_STD = 0.986581;

    static Map<String, double[]> initialWeights(String init, boolean zeroInit) {
        return initialWeights(init, zeroInit, 7);
    }

    static Map<String, double[]> initialWeights(String init, boolean zeroInit, long seed) {
        ModelConfig model = YamlConfig.with(Micro.config().model(), Map.of("init", init, "zero_init", zeroInit));
        Map<String, double[]> values = new HashMap<>();
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Gpt gpt = new Gpt(model, manager, DataType.FLOAT32, seed);
            for (Gpt.Param p : gpt.parameters()) {
                values.put(p.name(), p.value().toType(DataType.FLOAT64, false).toDoubleArray());
            }
        }
        return values;
    }

    static double std(double[] v) {
        double mean = java.util.Arrays.stream(v).average().orElseThrow();
        return Math.sqrt(java.util.Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / v.length);
    }

    static double maxAbs(double[] v) {
        return java.util.Arrays.stream(v).map(Math::abs).max().orElseThrow();
    }

    @Test
    void marinInitialisesAsHaliaxDid() {
        ModelConfig m = Micro.config().model(); // d = 32, attention 32, MLP 128, vocabulary 50,304
        Map<String, double[]> w = initialWeights("marin", true);
        double d = m.dModel();
        assertEquals(TRUNCATED_STD / d, std(w.get("wte")), 0.01 * TRUNCATED_STD / d, "embedding: 1/d");
        assertTrue(maxAbs(w.get("wte")) <= 3 / d + 1e-9, "truncated at 3σ");
        for (String matrix : List.of("h.0.attn.wq", "h.1.attn.wv", "h.0.mlp.w_up")) {
            assertEquals(TRUNCATED_STD / Math.sqrt(d), std(w.get(matrix)), 0.03 * TRUNCATED_STD / Math.sqrt(d), matrix);
            assertTrue(maxAbs(w.get(matrix)) <= 3 / Math.sqrt(d) + 1e-9, matrix);
        }
        for (String zero : List.of("h.0.attn.wo", "h.1.mlp.w_down", "lm_head")) {
            assertEquals(0.0, maxAbs(w.get(zero)), zero + ": the seed zero-initialises it under any scheme");
        }
        Map<String, double[]> unzeroed = initialWeights("marin", false);
        assertEquals(TRUNCATED_STD / Math.sqrt(m.mlpDim()), std(unzeroed.get("h.0.mlp.w_down")),
                0.03 * TRUNCATED_STD / Math.sqrt(m.mlpDim()), "down projection: 1/√fan_in, fan_in = the MLP's width");
        assertEquals(TRUNCATED_STD / Math.sqrt(d), std(unzeroed.get("lm_head")), 0.01 * TRUNCATED_STD / Math.sqrt(d),
                "lm_head: a Linear from d");
    }

    @Test
    void moddedAndGpt2InitialiseAsTheirReferencesDo() {
        ModelConfig m = Micro.config().model();
        double d = m.dModel();
        Map<String, double[]> modded = initialWeights("modded", false);
        assertEquals(1.0, std(modded.get("wte")), 0.01, "nn.Embedding: N(0, 1)");
        assertEquals(0.5 / Math.sqrt(d), std(modded.get("h.0.attn.wq")), 0.03 * 0.5 / Math.sqrt(d), "CastedLinear");
        assertTrue(maxAbs(modded.get("h.0.attn.wq")) <= Math.sqrt(3) * 0.5 / Math.sqrt(d), "uniform, bound √3·std");
        Map<String, double[]> gpt2 = initialWeights("gpt2", false);
        assertEquals(0.02, std(gpt2.get("wte")), 0.0005);
        assertEquals(0.02, std(gpt2.get("h.0.mlp.w_up")), 0.001);
        double residual = 0.02 / Math.sqrt(2.0 * m.nLayers());
        assertEquals(residual, std(gpt2.get("h.1.attn.wo")), 0.05 * residual, "c_proj: 0.02/√(2L)");
    }

    @Test
    void theModdedSchemeDrawsTheSameWeightsAsBefore() {
        // modded is the default: a config without model.init gets exactly the weights of one that names it
        Map<String, double[]> named = initialWeights("modded", true);
        ModelConfig model = Micro.config().model();
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Gpt gpt = new Gpt(model, manager, DataType.FLOAT32, 7);
            for (Gpt.Param p : gpt.parameters()) {
                assertArrayEquals(named.get(p.name()), p.value().toType(DataType.FLOAT64, false).toDoubleArray(),
                        p.name());
            }
        }
    }

    /** One step from the same weights and data with and without decay: decay subtracts exactly lr·wd·w₀. */
    @Test
    void levantersMaskLeavesTheEmbeddingUndecayedAndDecaysTheRest() {
        List<int[]> rows = new ArrayList<>();
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int i = 0; i < 4; i++) {
            rows.add(r.ints(65, 0, 50_000).toArray());
        }
        Map<String, Object> decayed = new HashMap<>(Map.of("adam_weight_decay", 0.5, "cooldown_fraction", 0.0));
        Map<String, Object> none = new HashMap<>(Map.of("adam_weight_decay", 0.0, "cooldown_fraction", 0.0));
        SpeedrunConfig c = Micro.config().withModel(Map.of("zero_init", false)); // a non-zero lm_head to decay
        Map<String, double[]> withDecay = afterOneStep(c.withTrain(decayed), rows);
        Map<String, double[]> without = afterOneStep(c.withTrain(none), rows);
        Map<String, double[]> initial = initialWeights("modded", false, c.train().seed());
        double lr = c.train().adamLr();
        assertArrayEquals(without.get("wte"), withDecay.get("wte"), 0.0, "the embedding is not decayed");
        for (String name : List.of("lm_head", "h.0.lambda_x", "lambda_backout")) {
            double factor = name.startsWith("h.") || name.startsWith("lambda") ? c.train().scalarLrMultiplier() : 1;
            double[] expected = new double[initial.get(name).length];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = without.get(name)[i] - lr * factor * 0.5 * initial.get(name)[i];
            }
            assertArrayEquals(expected, withDecay.get(name), 1e-6, name + " is decayed");
        }
        Map<String, Object> both = new HashMap<>(decayed);
        both.put("decay_embedding", true);
        double[] embedding = afterOneStep(c.withTrain(both), rows).get("wte");
        double multiplier = c.train().embeddingLrMultiplier();
        double[] expected = new double[embedding.length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = without.get("wte")[i] - lr * multiplier * 0.5 * initial.get("wte")[i];
        }
        assertArrayEquals(expected, embedding, 1e-5, "decay_embedding: true decays it too");
    }

    static Map<String, double[]> afterOneStep(SpeedrunConfig c, List<int[]> rows) {
        Map<String, double[]> values = new HashMap<>();
        try (Trainer t = new Trainer(c, Tokenizers.load("gpt2"))) {
            t.step(rows.subList(0, c.schedules().batchSequences(0)));
            for (Gpt.Param p : t.model().parameters()) {
                NDArray v = p.value();
                values.put(p.name(), v.toType(DataType.FLOAT64, false).toDoubleArray());
            }
        }
        return values;
    }

    @Test
    void tinyPlainIsThePlainGptAndLearns() {
        SpeedrunConfig plain = SpeedrunConfig.load(java.nio.file.Path.of("../../configs/speedrun/tiny-plain.yaml"));
        SpeedrunConfig tiny = SpeedrunConfig.load(java.nio.file.Path.of("../../configs/speedrun/tiny.yaml"));
        assertEquals(tiny.seqLen(), plain.seqLen());
        assertEquals(tiny.tokenizer(), plain.tokenizer());
        assertEquals(tiny.schedules().totalTokens(), plain.schedules().totalTokens(), "tiny's token budget");
        assertEquals(tiny.model().dModel(), plain.model().dModel());
        for (Feature f : Feature.values()) {
            assertTrue(!f.isOn(plain.model()), f.field + " is off in the plain GPT");
        }
        assertEquals("adamw", plain.train().optimizer());
        assertEquals("gpt2", plain.model().init());
        // four steps on one batch: AdamW on every parameter brings its loss down from ln(vocabulary)
        SpeedrunConfig short4 = plain.withTrainTokens(4L * 16 * plain.seqLen(), Map.of());
        List<int[]> rows = new ArrayList<>();
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int i = 0; i < 16; i++) {
            rows.add(r.ints(plain.seqLen() + 1, 0, 2_000).toArray());
        }
        try (Trainer t = new Trainer(short4, Tokenizers.load("gpt2"))) {
            double first = t.step(rows).loss();
            assertEquals(Math.log(50_304), first, 0.1, "GPT-2's small init starts near uniform");
            double last = first;
            for (int i = 1; i < 4; i++) {
                last = t.step(rows).loss();
            }
            assertTrue(last < first - 0.5, first + " -> " + last);
        }
    }
}
