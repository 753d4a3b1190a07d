package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AblationPlanTest {

    static final SpeedrunConfig TINY = FlopsTest.load("tiny");

    @Test
    void dropModeTurnsEachFeatureOffFromABaselineWithAllOn() {
        AblationPlan plan = AblationPlan.of(TINY, List.of(), AblationPlan.Mode.DROP, 1);
        assertEquals(Feature.values().length, plan.variants().size());
        assertTrue(plan.baseline().features().values().stream().allMatch(on -> on));
        assertEquals(TINY.model(), plan.baseline().config().model(), "tiny has every feature on already");
        for (AblationPlan.Variant v : plan.variants()) {
            long off = v.features().values().stream().filter(on -> !on).count();
            assertEquals(v.name().startsWith("-sliding_window") ? 2 : 1, off, v.toString());
        }
        AblationPlan.Variant window = plan.variants().stream().filter(v -> v.dir().equals("drop-sliding_window"))
                .findFirst().orElseThrow();
        assertEquals("-sliding_window (with rope_rescale)", window.name());
        assertFalse(window.config().model().ropeRescale());
        AblationPlan.Variant scale = plan.variants().stream().filter(v -> v.dir().equals("drop-attn_scale"))
                .findFirst().orElseThrow();
        assertEquals(1.0, scale.config().model().attnScale());
        AblationPlan.Variant mix = plan.variants().stream().filter(v -> v.dir().equals("drop-residual_mix"))
                .findFirst().orElseThrow();
        assertEquals(TINY.parameters() - 2L * TINY.model().nLayers(), mix.config().parameters());
    }

    @Test
    void addModeStartsFromThePlainGptAndCarriesWhatAFeatureNeeds() {
        AblationPlan plan = AblationPlan.of(TINY, List.of(), AblationPlan.Mode.ADD, 2);
        ModelConfig plain = plan.baseline().config().model();
        assertFalse(plain.qkNorm() || plain.residualMix() || plain.backout() || plain.slidingWindow());
        assertEquals(0.0, plain.logitSoftcap());
        assertEquals(1.0, plain.ropeFraction());
        AblationPlan.Variant rescale = plan.variants().stream().filter(v -> v.dir().equals("add-rope_rescale"))
                .findFirst().orElseThrow();
        assertEquals("+rope_rescale (with sliding_window)", rescale.name());
        assertTrue(rescale.config().model().slidingWindow() && rescale.config().model().ropeRescale());
        AblationPlan.Variant cap = plan.variants().stream().filter(v -> v.dir().equals("add-logit_softcap"))
                .findFirst().orElseThrow();
        assertEquals(15.0, cap.config().model().logitSoftcap(), "tiny's own cap");
        assertEquals(List.of(1337L, 1338L), plan.seedValues());
        SpeedrunConfig run = plan.run(cap, 1338);
        assertEquals("tiny-add-logit_softcap-s1338", run.name());
        assertEquals(1338, run.train().seed());
        assertEquals(TINY.trainTokens(), run.trainTokens());
        assertEquals(TINY.schedules().totalSteps(), run.schedules().totalSteps(), "the same token budget");
    }

    @Test
    void badListsAreRefusedBeforeAnythingRunsSayingWhy() {
        var unknown = assertThrows(IllegalArgumentException.class,
                () -> AblationPlan.of(TINY, List.of("backout", "flash"), AblationPlan.Mode.DROP, 1));
        assertTrue(unknown.getMessage().contains("unknown feature 'flash'; known: norm_after_embedding, qk_norm"),
                unknown.getMessage());
        var leaves = assertThrows(IllegalArgumentException.class,
                () -> AblationPlan.of(TINY, List.of("sliding_window"), AblationPlan.Mode.DROP, 1));
        assertTrue(leaves.getMessage().contains("dropping sliding_window leaves rope_rescale on, which requires it"),
                leaves.getMessage());
        SpeedrunConfig noWindow = TINY.withModel(Map.of("sliding_window", false, "rope_rescale", false));
        var needs = assertThrows(IllegalArgumentException.class,
                () -> AblationPlan.of(noWindow, List.of("rope_rescale"), AblationPlan.Mode.ADD, 1));
        assertTrue(needs.getMessage().contains("rope_rescale requires sliding_window, which is off in the add-mode "
                + "baseline: list sliding_window too"), needs.getMessage());
        var baseline = assertThrows(IllegalArgumentException.class,
                () -> AblationPlan.of(noWindow, List.of("rope_rescale"), AblationPlan.Mode.DROP, 1));
        assertTrue(baseline.getMessage().contains("rope_rescale requires sliding_window, which tiny has off"),
                baseline.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AblationPlan.of(TINY, List.of("qk_norm", "qk_norm"),
                AblationPlan.Mode.DROP, 1));
        assertThrows(IllegalArgumentException.class, () -> AblationPlan.of(TINY, List.of(), AblationPlan.Mode.DROP, 0));
    }
}
