package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FlopsTest {

    static SpeedrunConfig load(String name) {
        return SpeedrunConfig.load(Path.of("../configs/speedrun/" + name + ".yaml"));
    }

    @Test
    void flopsPerTokenOf270mIsLevantersExactly() {
        assertEquals(422_326_272L, Flops.perToken(load("270m").model()));
    }

    @ParameterizedTest
    @CsvSource({"150m, 2.19e17", "270m, 8.7e17", "460m, 2.8e18"})
    void modelFlopsMatchTheSeedRunsWithinTwoPercent(String name, double seed) {
        SpeedrunConfig c = load(name);
        assertEquals(128_256, c.model().vocabSize());
        double flops = Flops.modelFlops(c.model(), c.trainTokens());
        assertEquals(1.0, flops / seed, 0.02, name + ": " + flops);
    }

    @Test
    void parametersCountEmbeddingHeadMatricesAndScalars() {
        ModelConfig m = load("270m").model();
        long expected = 2L * 128_256 * 768 + 11L * (4L * 768 * 768 + 2L * 768 * 3072) + 2 * 11 + 1;
        assertEquals(expected, m.parameters());
    }
}
