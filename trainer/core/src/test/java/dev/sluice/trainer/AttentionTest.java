package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.sluice.contract.config.YamlConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fused attention (libtorch's scaled_dot_product_attention) against the plain four-op attention, and bfloat16
 * compute against float32, on the whole model: the loss and every parameter's gradient, which covers the gradient
 * of each attention input (q, k and v are functions of the weights, each in its own way).
 */
class AttentionTest {

    /** Loss and the gradient of every parameter, float32 master weights. */
    record Pass(double loss, Map<String, float[]> gradients) {}

    static Pass pass(ModelConfig config, boolean bfloat16, int... windows) {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
             Gpt model = new Gpt(config, manager, new Precision(DataType.FLOAT32, bfloat16), 7)) {
            Models.perturb(model, 3, 0.3);
            NDArray rows = Models.tokens(manager, 11, 3, 13);
            AttentionSchedule schedule = model.schedule(12, windows);
            Map<String, float[]> gradients = new LinkedHashMap<>();
            double loss;
            try (NDScope scope = new NDScope();
                 GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                scope.suppressNotUsedWarning();
                NDArray l = model.loss(rows, schedule);
                gc.backward(l);
                loss = l.getFloat();
                for (Gpt.Param p : model.parameters()) {
                    gradients.put(p.name(), p.value().getGradient().toFloatArray());
                }
            }
            return new Pass(loss, gradients);
        }
    }

    static ModelConfig with(ModelConfig c, String attention) {
        return YamlConfig.with(c, Map.of("attention", attention));
    }

    static double relativeError(Pass a, Pass b) {
        return Models.relativeError(a.gradients(), b.gradients());
    }

    @Test
    void fusedEqualsPlainCausal() {
        ModelConfig causal = YamlConfig.with(Models.allFeatures(), Map.of("sliding_window", false));
        Pass plain = pass(with(causal, "plain"), false, 12);
        Pass fused = pass(with(causal, "sdpa"), false, 12);
        assertEquals(plain.loss(), fused.loss(), 1e-5 * plain.loss());
        assertTrue(relativeError(fused, plain) < 1e-5, "gradients differ by " + relativeError(fused, plain));
    }

    @Test
    void fusedEqualsPlainUnderSlidingWindows() {
        // windows 4 (short layers: 2) over 12 tokens: most keys are outside the window, the mask does real work
        Pass plain = pass(with(Models.allFeatures(), "plain"), false, 2, 4);
        Pass fused = pass(with(Models.allFeatures(), "sdpa"), false, 2, 4);
        assertEquals(plain.loss(), fused.loss(), 1e-5 * plain.loss());
        assertTrue(relativeError(fused, plain) < 1e-5, "gradients differ by " + relativeError(fused, plain));
        Pass wide = pass(with(Models.allFeatures(), "sdpa"), false, 2, 12);
        assertTrue(Math.abs(wide.loss() - fused.loss()) > 1e-4, "the window changes the result");
    }

    @Test
    void bfloat16GradientsFollowFloat32WithinBf16Rounding() {
        for (String attention : new String[] {"sdpa", "plain"}) {
            ModelConfig c = with(Models.allFeatures(), attention);
            Pass fp32 = pass(c, false, 2, 4);
            Pass bf16 = pass(c, true, 2, 4);
            // bf16 keeps 8 significant bits (relative rounding 2^-9 ≈ 0.002 per operand); through a 3-layer model
            // the loss stays within 1% and every gradient within 5% of the largest
            assertEquals(fp32.loss(), bf16.loss(), 0.01 * fp32.loss(), attention);
            double error = relativeError(bf16, fp32);
            assertTrue(error < 0.05, attention + ": bf16 gradients differ by " + error);
            assertTrue(error > 1e-6, attention + ": bf16 ran in float32 (" + error + ")");
            bf16.gradients().forEach((name, g) -> {
                for (float x : g) {
                    assertTrue(Float.isFinite(x), name);
                }
            });
        }
    }
}
