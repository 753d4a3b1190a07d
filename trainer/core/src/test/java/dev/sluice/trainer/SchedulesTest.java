package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulesTest {

    static Schedules s = new Schedules(300, List.of(8, 16, 24), 256, 0.4, 0.85, 0.95, 30, 64, 64);

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
}
