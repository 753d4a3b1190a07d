package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulesTest {

    static Schedules s = new Schedules(300, List.of(8, 16, 24), 256, 0.4, 0.85, 0.95, 30, 64, 64, 0, 0, List.of());

    @Test
    void batchSizeGrowsAcrossThirds() {
        assertEquals(8, s.batchSequences(0));
        assertEquals(8, s.batchSequences(99));
        assertEquals(16, s.batchSequences(100));
        assertEquals(16, s.batchSequences(199));
        assertEquals(24, s.batchSequences(200));
        assertEquals(24, s.batchSequences(299));
        assertEquals(100L * (8 + 16 + 24) * 256, s.totalTokens());
    }

    @Test
    void lrIsFlatThenCoolsLinearlyToOneTenth() {
        assertEquals(1.0, s.lrMultiplier(0));
        assertEquals(1.0, s.lrMultiplier(179));
        assertEquals(1.0, s.lrMultiplier(180));
        assertEquals(0.1, s.lrMultiplier(299), 1e-12);
        double mid = s.lrMultiplier(240);
        assertTrue(mid < 1 && mid > 0.1);
        for (int i = 181; i < 300; i++) {
            assertTrue(s.lrMultiplier(i) < s.lrMultiplier(i - 1), "strictly falling at " + i);
        }
    }

    @Test
    void muonMomentumWarmsUpFrom085To095() {
        assertEquals(0.85, s.muonMomentum(0), 1e-12);
        assertEquals(0.90, s.muonMomentum(15), 1e-12);
        assertEquals(0.95, s.muonMomentum(30), 1e-12);
        assertEquals(0.95, s.muonMomentum(299), 1e-12);
    }

    @Test
    void longWindowGrowsInBlocksToSeqLen() {
        assertEquals(64, s.longWindow(0));
        assertEquals(256, s.longWindow(299));
        int previous = 0;
        for (int i = 0; i < 300; i++) {
            int w = s.longWindow(i);
            assertTrue(w % 64 == 0 && w >= previous, "window " + w + " at " + i);
            previous = w;
        }
    }

    @Test
    void stepsComeFromTheTokenBudget() {
        SpeedrunConfig tiny = SpeedrunConfig.load(java.nio.file.Path.of("../../configs/speedrun/tiny.yaml"));
        Schedules t = tiny.schedules();
        assertEquals(0, t.totalSteps() % 3);
        assertEquals(600_000, t.totalTokens(), 600_000 * 0.05);
    }

    /**
     * modded-nanogpt's schedules as its train_gpt.py computes them (KellerJordan/modded-nanogpt 25500ab7, the
     * "Batch size schedule" record of 2025-12-08: get_lr and get_muon_momentum), ported line for line here as the
     * reference, against ours with lr_batch_exponent 0.6 and a 50-step momentum cooldown.
     */
    @Test
    void withBatchScalingAndMomentumCooldownTheSchedulesAreModdedNanogpts() {
        int n = 300;
        double cooldownFrac = 0.55;
        Schedules ours = new Schedules(n, List.of(8, 16, 24), 256, cooldownFrac, 0.85, 0.95, 30, 64, 64, 0.6, 50, List.of());
        for (int step = 0; step < n; step++) {
            double x = (double) step / n;
            double lrMax = 1.0;
            if (x > 0.33) {
                lrMax = 1.51; // (16/8)**0.6, rounded in the reference
            }
            if (x > 0.66) {
                lrMax = 1.93; // (24/8)**0.6
            }
            double lr = lrMax;
            if (x >= 1 - cooldownFrac) {
                double w = (1 - x) / cooldownFrac;
                lr = lrMax * w + (1 - w) * 0.1;
            }
            // phases here are exact thirds and the cooldown reaches 0.1 on the last step, where the reference's
            // boundaries are 0.33/0.66 and it reaches 0.1 one step later: compare where both define the same thing
            if (Math.abs(x - 1 / 3.0) > 0.01 && Math.abs(x - 2 / 3.0) > 0.01) {
                assertEquals(lr, ours.lrMultiplier(step), 0.015, "lr at step " + step);
            }
            int cdStart = n - 50;
            double momentum = step < 30 ? 0.85 + (double) step / 30 * 0.10
                    : step > cdStart ? 0.95 - (double) (step - cdStart) / 50 * 0.10 : 0.95;
            assertEquals(momentum, ours.muonMomentum(step), 1e-12, "momentum at step " + step);
        }
        assertEquals(Math.pow(2, 0.6), ours.lrMultiplier(100), 1e-12, "the second phase's peak, before the cooldown");
        assertEquals(0.1, ours.lrMultiplier(n - 1), 1e-12);
    }

    /** modded-nanogpt's get_ws (25500ab7): ws_schedule[int(len(ws_schedule) · step / N)], per equal share of the run. */
    @Test
    void aWindowScheduleStepsPerShareAsModdedNanogptsDoes() {
        List<Integer> ws = List.of(64, 128, 256);
        Schedules ours = new Schedules(147, List.of(8, 16, 24), 256, 0.4, 0.85, 0.95, 30, 64, 64, 0, 0, ws);
        for (int step = 0; step < 147; step++) {
            int reference = ws.get((int) (ws.size() * ((double) step / 147)));
            assertEquals(reference, ours.longWindow(step), "window at step " + step);
        }
        assertEquals(49, java.util.stream.IntStream.range(0, 147).filter(i -> ours.longWindow(i) == 256).count(),
                "the last third trains at the final window, which evaluation then uses");
    }
}
