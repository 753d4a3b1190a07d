package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FlopsTest {

    static SpeedrunConfig load(String name) {
        return SpeedrunConfig.load(Path.of("../../configs/speedrun/" + name + ".yaml"));
    }

    @Test
    void flopsPerTokenOf270mIsLevantersExactly() {
        assertEquals(422_326_272L, Flops.perToken(load("270m")));
    }

    @ParameterizedTest
    @CsvSource({"150m, 2.19e17", "270m, 8.7e17", "460m, 2.8e18"})
    void modelFlopsMatchTheSeedRunsWithinTwoPercent(String name, double seed) {
        SpeedrunConfig c = load(name);
        assertEquals(128_256, c.model().vocabSize());
        double flops = Flops.modelFlops(c, c.trainTokens());
        assertEquals(1.0, flops / seed, 0.02, name + ": " + flops);
    }

    @Test
    void parametersCountEmbeddingHeadMatricesAndScalars() {
        ModelConfig m = load("270m").model();
        long expected = 2L * 128_256 * 768 + 11L * (4L * 768 * 768 + 2L * 768 * 3072) + 2 * 11 + 1;
        assertEquals(expected, m.parameters());
    }

    @ParameterizedTest
    @CsvSource({"150m, 955, 375521280", "270m, 1747, 686948352", "460m, 2950, 1159987200"})
    void stepsAndTokensAreMarinsIntOfParametersTimesTwoPointFiveOverTheBatch(String name, int steps, long tokens) {
        SpeedrunConfig c = load(name);
        // Levanter counts the parameters without the λ scalars; int(params · 2.5) // (192 · 2048)
        assertEquals((long) (c.model().matrixParameters() * 2.5) / (192 * 2048), steps);
        assertEquals(steps, c.schedules().totalSteps());
        assertEquals(tokens, c.schedules().totalTokens());
    }

    @ParameterizedTest
    @CsvSource({"150m, 0.0", "270m, 0.0", "460m, 0.01"})
    void theSeedConfigsTrainAsMarinConfiguredThem(String name, double weightDecay) {
        TrainConfig t = load(name).train();
        assertEquals(0.02, t.muonLr());
        assertEquals(0.0064, t.adamLr());
        assertEquals(1.0, t.embeddingLrMultiplier());
        assertEquals(1.0, t.scalarLrMultiplier());
        assertEquals(0.8, t.adamBeta1());
        assertEquals(0.95, t.adamBeta2());
        assertEquals(1e-15, t.adamEps());
        assertEquals(1e-5, t.muonEps());
        assertEquals(0.95, load(name).schedules().muonMomentum(0), "no momentum warm-up");
        assertEquals(weightDecay, t.muonWeightDecay());
        assertEquals(weightDecay, t.adamWeightDecay());
        assertEquals(1.0, t.adamGradClip());
        Schedules s = load(name).schedules();
        int half = s.totalSteps() / 2;
        assertEquals(1.0, s.lrMultiplier(half - 1), "stable for the first half");
        assertEquals(0.1, s.lrMultiplier(s.totalSteps() - 1), 1e-12, "then linear to 0.1x");
        ModelConfig m = load(name).model();
        assertEquals(false, m.slidingWindow() || m.ropeRescale() || m.logitSoftcap() > 0, "modded-nanogpt options off");
    }
}
