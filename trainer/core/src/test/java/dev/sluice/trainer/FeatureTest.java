package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.sluice.contract.config.YamlConfig;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each speedrun feature does what it says. */
class FeatureTest {

    NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterEach
    void close() {
        manager.close();
    }

    Gpt model(ModelConfig c, long seed) {
        return new Gpt(c, manager, DataType.FLOAT64, seed);
    }

    NDArray randomStream(long seed, int t, int d) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[t * d];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble() * 2 - 1;
        }
        return manager.create(v, new Shape(1, t, d));
    }

    @Test
    void zeroInitMakesEveryBlockTheIdentityOnTheResidualStream() {
        Gpt m = model(Models.allFeatures(), 1);
        NDArray x = randomStream(2, 12, 16);
        AttentionSchedule s = m.schedule(12, 4, 8);
        for (int l = 0; l < 3; l++) {
            assertArrayEquals(x.toDoubleArray(), m.block(x, l, s).toDoubleArray(), 0.0, "block " + l);
        }
        // and lm_head starts at zero: every logit 0, the loss ln(V)
        NDArray rows = Models.tokens(manager, 3, 1, 13);
        assertEquals(Math.log(128), m.loss(rows, s).getDouble(), 1e-12);
    }

    @Test
    void backoutWithLambdaZeroEqualsThePlainModel() {
        Gpt with = model(Models.small(false, true, true, true, "SSSL", 3), 9);
        Gpt without = model(Models.small(false, false, true, true, "SSSL", 3), 9);
        with.param("lambda_backout").set(new double[] {0});
        NDArray tokens = Models.tokens(manager, 4, 2, 12);
        assertArrayEquals(without.forward(tokens, without.schedule(12, 4, 8)).toDoubleArray(),
                with.forward(tokens, with.schedule(12, 4, 8)).toDoubleArray(), 1e-12);
        with.param("lambda_backout").set(new double[] {0.5});
        assertFalse(java.util.Arrays.equals(without.forward(tokens, without.schedule(12, 4, 8)).toDoubleArray(),
                with.forward(tokens, with.schedule(12, 4, 8)).toDoubleArray()));
    }

    @Test
    void residualMixWithLambdasOneAndZeroEqualsNoMixing() {
        Gpt mix = model(Models.small(false, true, true, true, "SSSL", 3), 5);
        Gpt plain = model(Models.small(false, true, false, true, "SSSL", 3), 5);
        assertEquals(1.1, mix.param("h.0.lambda_x").getDouble(), 1e-12);
        assertEquals(0.0, mix.param("h.0.lambda_x0").getDouble(), 1e-12);
        for (int l = 0; l < 3; l++) {
            mix.param("h." + l + ".lambda_x").set(new double[] {1});
        }
        NDArray tokens = Models.tokens(manager, 6, 1, 12);
        assertArrayEquals(plain.forward(tokens, plain.schedule(12, 4, 8)).toDoubleArray(),
                mix.forward(tokens, mix.schedule(12, 4, 8)).toDoubleArray(), 1e-12);
    }

    @Test
    void softCapIsCapTimesTanhAndTheLossIsTheCrossEntropyOfThoseLogits() {
        Gpt capped = model(Models.small(false, true, true, true, "SSSL", 3), 3);
        Gpt plain = model(YamlConfig.with(Models.small(false, true, true, true, "SSSL", 3),
                java.util.Map.of("logit_softcap", 0.0)), 3);
        NDArray rows = Models.tokens(manager, 4, 2, 13);
        NDArray inputs = rows.get(":, 0:12");
        AttentionSchedule s = capped.schedule(12, 4, 8);
        NDArray logits = capped.forward(inputs, s);
        assertArrayEquals(plain.forward(inputs, s).div(5).tanh().mul(5).toDoubleArray(), logits.toDoubleArray(),
                1e-12);
        NDArray expected = logits.logSoftmax(-1).gather(rows.get(":, 1:").expandDims(-1), -1).squeeze(-1).neg();
        assertArrayEquals(expected.toDoubleArray(), capped.tokenLosses(rows, s).toDoubleArray(), 1e-12);
    }

    @Test
    void softCapBoundsTheLogits() {
        Gpt m = model(Models.small(false, true, true, true, "SSSL", 3), 5);
        m.param("lm_head").muli(1000);
        double max = 0;
        for (double v : m.forward(Models.tokens(manager, 1, 1, 12), m.schedule(12, 4, 8)).toDoubleArray()) {
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max <= 5.0 && max > 4.9, "max |logit| " + max);
    }

    @Test
    void slidingWindowHidesTokensBeyondTheWindow() {
        // one layer, window 4: position i sees i-3..i, so token 0 cannot reach positions 4 and later
        Gpt m = model(Models.small(false, false, false, true, "L", 1), 8);
        NDArray a = Models.tokens(manager, 2, 1, 12);
        long[] changed = a.toLongArray();
        changed[0] = (changed[0] + 1) % 120;
        NDArray b = manager.create(changed, a.getShape());
        AttentionSchedule s = m.schedule(12, 4);
        double[] la = m.forward(a, s).toDoubleArray();
        double[] lb = m.forward(b, s).toDoubleArray();
        for (int pos = 0; pos < 12; pos++) {
            boolean same = java.util.Arrays.equals(java.util.Arrays.copyOfRange(la, pos * 128, (pos + 1) * 128),
                    java.util.Arrays.copyOfRange(lb, pos * 128, (pos + 1) * 128));
            assertEquals(pos >= 4, same, "position " + pos);
        }
        assertArrayEquals(new int[] {2, 2, 2, 4}, model(Models.small(false, false, false, true, "SSSL", 4), 1)
                .schedule(12, 4).windows());
        // the pattern ends at the last layer, which always attends over the long window
        assertArrayEquals(new int[] {2, 2, 4}, model(Models.small(false, false, false, true, "SSSL", 3), 1)
                .schedule(12, 4).windows());
        assertArrayEquals(new int[] {2, 4, 2, 2, 2, 4}, model(Models.small(false, false, false, true, "SSSL", 6), 1)
                .schedule(12, 4).windows());
        var e = assertThrows(IllegalArgumentException.class, () -> Models.small(false, false, false, true, "LSS", 3));
        assertTrue(e.getMessage().contains("ending with L"), e.getMessage());
        assertArrayEquals(new int[] {12, 12}, model(Models.small(false, false, false, false, "SSSL", 2), 1)
                .schedule(12, 4).windows());
    }

    @Test
    void partialRopeRotatesHalfTheDimsAndLeavesTheRestStill() {
        double[] f = Rope.frequencies(128, 0.5, 1024, 2048);
        assertEquals(64, f.length);
        assertEquals(1.0, f[0], 1e-12);
        assertEquals(1.0 / 1024, f[31], 1e-12);
        for (int j = 32; j < 64; j++) {
            assertEquals(0.0, f[j]);
        }
        Rope.Table table = Rope.table(manager, DataType.FLOAT64, 6, 8, 0.5, 1024, 6);
        double[] ones = new double[6 * 8];
        java.util.Arrays.fill(ones, 1);
        double[] y = table.apply(manager.create(ones, new Shape(1, 1, 6, 8))).toDoubleArray();
        for (int t = 0; t < 6; t++) {
            // pairs (j, j+4): j = 0, 1 rotate, j = 2, 3 stay still
            assertEquals(1.0, y[t * 8 + 2], 1e-12);
            assertEquals(1.0, y[t * 8 + 3], 1e-12);
            assertEquals(1.0, y[t * 8 + 6], 1e-12);
            assertEquals(1.0, y[t * 8 + 7], 1e-12);
            if (t > 0) {
                assertTrue(Math.abs(y[t * 8] - 1.0) > 1e-6, "dim 0 rotates at position " + t);
            }
        }
    }

    @Test
    void ropeRescalingSlowsOnlyTheLowFrequenciesWhenTheWindowGrows() {
        double[] base = Rope.frequencies(128, 0.5, 1024, 1024);
        double[] grown = Rope.frequencies(128, 0.5, 1024, 1024, 4096);
        assertEquals(base[0], grown[0], 1e-12);              // 163 turns within the window: kept
        assertEquals(base[31] / 4, grown[31], 1e-12);        // under one turn: slowed by the growth factor
        int mid = 20;                                        // between 1 and 32 turns: blended
        double turns = 1024 * base[mid] / (2 * Math.PI);
        double keep = (turns - 1) / 31;
        assertTrue(turns > 1 && turns < 32, "pair 20 turns " + turns + " times");
        assertEquals(base[mid] * (0.25 + keep * 0.75), grown[mid], 1e-12);
        Gpt m = model(Models.allFeatures(), 1);
        assertEquals(1.35 / Math.sqrt(8), m.schedule(12, 4).attnScale(), 1e-12);
        assertEquals(1.35 / Math.sqrt(8) * (0.2 * Math.log(2) + 1), m.schedule(12, 4, 8).attnScale(), 1e-12);
    }

    @Test
    void ropeRescalingCompoundsAtEachChangeOfWindow() {
        // modded-nanogpt applies each change to the already-scaled state: 4 -> 8 -> 12 is not 4 -> 12
        double twoSteps = (0.2 * Math.log(2) + 1) * (0.2 * Math.log(1.5) + 1);
        assertEquals(twoSteps, Rope.temperature(4, 8, 12), 1e-12);
        assertTrue(Math.abs(Rope.temperature(4, 12) - twoSteps) > 1e-3);
        double[] once = Rope.frequencies(128, 0.5, 1024, 256, 512);
        double[] twice = Rope.frequencies(128, 0.5, 1024, 256, 512, 1024);
        double turns = 512 * once[31] / (2 * Math.PI);
        assertTrue(turns < 1);
        assertEquals(once[31] / 2, twice[31], 1e-15);       // the second change starts from the first's result
    }

    @Test
    void theRunsWindowHistoryIsTheScheduleSoFar() {
        Schedules s = new Schedules(5, java.util.List.of(1), 64, 0, 0.9, 0.9, 0, 16, 16, 0, 0, java.util.List.of());
        // windows 16 + 48·s/4 rounded down to blocks of 16: 16, 16, 32, 48, 64
        assertArrayEquals(new int[] {16}, s.longWindowsThrough(1));
        assertArrayEquals(new int[] {16, 32}, s.longWindowsThrough(2));
        assertArrayEquals(new int[] {16, 32, 48, 64}, s.longWindowsThrough(4));
    }

    @Test
    void rmsNormGivesUnitMeanSquare() {
        Gpt m = model(Models.allFeatures(), 1);
        double[] y = m.rmsNorm(randomStream(3, 4, 16)).toDoubleArray();
        for (int row = 0; row < 4; row++) {
            double ms = 0;
            for (int i = 0; i < 16; i++) {
                ms += y[row * 16 + i] * y[row * 16 + i] / 16;
            }
            assertEquals(1.0, ms, 1e-4);
        }
    }

    @Test
    void newtonSchulzMakesTheUpdateNearlyOrthogonal() {
        NDArray g = randomStream(4, 16, 48).reshape(16, 48).toType(DataType.FLOAT32, false);
        NDArray x = Muon.newtonSchulz(g, 1e-7, Muon.Coefficients.SIMPLE);
        double[] gram = x.matMul(x.transpose()).toType(DataType.FLOAT64, false).toDoubleArray();
        for (int i = 0; i < 16; i++) {
            assertTrue(gram[i * 16 + i] > 0.5 && gram[i * 16 + i] < 1.5, "singular values near 1: " + gram[i * 16 + i]);
        }
        NDArray tall = Muon.newtonSchulz(g.transpose(), 1e-7, Muon.Coefficients.SIMPLE);
        assertEquals(new Shape(48, 16), tall.getShape());
    }

    @Test
    void muonScalesAnUpProjectionBySqrtOfOutOverInAndADownProjectionByOne() {
        NDArray g = randomStream(5, 16, 64).reshape(16, 64).toType(DataType.FLOAT32, false);
        for (boolean up : new boolean[] {true, false}) {
            NDArray grad = up ? g : g.transpose(); // stored [in, out]: [16, 64] maps 16 to 64 features
            NDArray w = grad.zerosLike();
            new Muon(0, 1e-7, Muon.Coefficients.SIMPLE).step("w", w, grad, 0.1, 0.0); // momentum 0: the update is the gradient's own
            double factor = up ? 2.0 : 1.0;
            assertArrayEquals(Muon.newtonSchulz(grad, 1e-7, Muon.Coefficients.SIMPLE).mul(-0.1 * factor).toType(DataType.FLOAT64, false)
                    .toDoubleArray(), w.toType(DataType.FLOAT64, false).toDoubleArray(), 1e-6, up ? "up" : "down");
        }
    }

    /**
     * On a diagonal matrix each singular value follows the scalar polynomial s ← a·s + b·s³ + c·s⁵, so both coefficient
     * sets can be checked against the reference's values, typed here from Levanter's optim/util.py
     * (NEWTON_SCHULZ_COEFFICIENTS, marin-community/marin PR #2545) and modded-nanogpt's train_gpt.py.
     */
    @Test
    void newtonSchulzFollowsTheReferenceCoefficientsStepByStep() {
        double[][] simple = {{3.4445, -4.7750, 2.0315}};
        double[][] quintic = {{4.0848, -6.8946, 2.9270}, {3.9505, -6.3029, 2.6377}, {3.7418, -5.5913, 2.3037},
                {2.8769, -3.1427, 1.2046}, {2.8366, -3.0525, 1.2012}};
        double[] diag = {0.9, 0.3, 0.05};
        for (var entry : java.util.Map.of(Muon.Coefficients.SIMPLE, simple, Muon.Coefficients.QUINTIC, quintic)
                .entrySet()) {
            double norm = Math.sqrt(java.util.Arrays.stream(diag).map(v -> v * v).sum());
            double[] expected = new double[diag.length];
            for (int k = 0; k < diag.length; k++) {
                double x = diag[k] / norm;
                for (int i = 0; i < 5; i++) {
                    double[] abc = entry.getValue()[i % entry.getValue().length];
                    x = abc[0] * x + abc[1] * x * x * x + abc[2] * x * x * x * x * x;
                }
                expected[k] = x;
            }
            NDArray g = manager.create(new double[] {diag[0], 0, 0, 0, diag[1], 0, 0, 0, diag[2]}, new Shape(3, 3));
            double[] out = Muon.newtonSchulz(g, 0, entry.getKey()).toDoubleArray();
            for (int k = 0; k < diag.length; k++) {
                assertEquals(expected[k], out[k * 3 + k], 1e-9, entry.getKey() + " singular value " + k);
            }
        }
        assertEquals(Muon.Coefficients.QUINTIC, Muon.Coefficients.named("quintic"));
    }
}
