package dev.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.trainer.SpeedrunConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RunOverridesTest {

    static SpeedrunConfig apply(SpeedrunConfig c, String... args) {
        RunOverrides o = new RunOverrides();
        new CommandLine(o).parseArgs(args);
        return o.apply(c);
    }

    @Test
    void aSmokeRunKeepsTheModelAndChangesOnlyStepsBatchEvaluationAndDevice() {
        SpeedrunConfig real = SpeedrunConfig.load(Path.of("../../configs/speedrun/270m.yaml"));
        SpeedrunConfig smoke = apply(real, "--max-steps", "2", "--batch", "1", "--device", "cpu");
        assertEquals(real.model(), smoke.model());
        assertEquals(2, smoke.schedules().totalSteps());
        assertEquals(1, smoke.schedules().batchSequences(1));
        assertEquals(2 * 2048, smoke.schedules().totalTokens());
        assertEquals(RunOverrides.SMOKE_EVAL_SEQUENCES, smoke.train().evalSequences());
        assertEquals(0, smoke.train().evalEvery());
        assertEquals("cpu", smoke.train().device());
        assertEquals(real.train().muonLr(), smoke.train().muonLr());
        assertEquals(5, apply(real, "--max-steps", "2", "--eval-sequences", "5").train().evalSequences());
        SpeedrunConfig tiny = SpeedrunConfig.load(Path.of("../../configs/speedrun/tiny.yaml"));
        assertEquals(3, apply(tiny, "--max-steps", "2").schedules().totalSteps(), "whole rounds of [8, 16, 24]");
        assertSame(tiny, apply(tiny));
    }

    @Test
    void theDevicesOverrideReplacesTheConfigsPlacementWhole() {
        SpeedrunConfig big = SpeedrunConfig.load(Path.of("../../configs/speedrun/460m.yaml"));
        assertEquals(List.of("gpu:*"), big.train().devices());
        SpeedrunConfig oneCpu = apply(big, "--device", "cpu");
        assertEquals("cpu", oneCpu.train().device());
        assertEquals(List.of(), oneCpu.train().devices());
        SpeedrunConfig twoCpus = apply(big, "--devices", "cpu,cpu");
        assertEquals(List.of("cpu", "cpu"), twoCpus.train().devices());
        assertEquals("cpu", twoCpus.train().device());
        assertEquals("gpu:0", apply(oneCpu, "--devices", "gpu:*").train().device());
        var e = assertThrows(IllegalArgumentException.class, () -> apply(big, "--device", "cpu", "--devices", "cpu"));
        assertTrue(e.getMessage().contains("not both"), e.getMessage());
    }
}
