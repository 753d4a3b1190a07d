package dev.sluice.trainer.job;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * Told by the trainer operator after each whole step, inside the job (so it must be serializable). Tests use it to
 * fail a job at a chosen step and prove that the restore resumes the same run.
 */
@FunctionalInterface
public interface StepListener extends Serializable {

    StepListener NONE = (rank, stepsDone, outDir) -> { };

    /** Rank {@code rank} ended {@code stepsDone} steps; an exception fails the job as any operator failure does. */
    void stepDone(int rank, int stepsDone, Path outDir) throws IOException;
}
