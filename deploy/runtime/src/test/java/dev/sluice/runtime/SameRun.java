package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.trainer.StepMetrics;
import java.util.List;

/** Two runs' metrics compared step by step: the same sequences, global batches and (within a bound) losses. */
final class SameRun {

    private SameRun() {}

    /** {@code relative} 0: the losses equal to the last bit. */
    static void assertSameRun(List<StepMetrics> a, List<StepMetrics> b, double relative) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).seqIdHash(), b.get(i).seqIdHash(), "sequences of step " + i);
            assertEquals(a.get(i).batchSequences(), b.get(i).batchSequences(), "global batch of step " + i);
            if (relative == 0) {
                assertEquals(a.get(i).loss(), b.get(i).loss(), "loss at step " + i);
            } else {
                assertEquals(a.get(i).loss(), b.get(i).loss(), relative * a.get(i).loss(), "loss at step " + i);
            }
        }
    }
}
