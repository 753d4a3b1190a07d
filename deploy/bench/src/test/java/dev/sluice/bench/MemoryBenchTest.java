package dev.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The memory planner against the peak a real training step reaches on this machine's CPU. */
class MemoryBenchTest {

    @Test
    void thePlannersPeakIsWithinAQuarterOfTheMeasuredOneAtMicroBatchOne() throws Exception {
        for (String config : new String[] {"micro", "tiny", "150m"}) {
            MemoryBench.Result r = MemoryBench.measure(Path.of("../../configs/speedrun/" + config + ".yaml"), 1);
            assertTrue(r.ratio() > 0.75 && r.ratio() < 1.25, config + ": predicted " + r.predicted() + " bytes, measured "
                    + r.measured() + " (ratio " + r.ratio() + ")");
        }
    }

    @Test
    void twoReplicasSharingTheHostAreWithinAQuarterToo() throws Exception {
        MemoryBench.Result r = MemoryBench.measure(Path.of("../../configs/speedrun/tiny.yaml"), 1, 2);
        assertTrue(r.ratio() > 0.75 && r.ratio() < 1.25, "tiny on 2 CPU replicas: predicted " + r.predicted()
                + " bytes, measured " + r.measured() + " (ratio " + r.ratio() + ")");
    }
}
