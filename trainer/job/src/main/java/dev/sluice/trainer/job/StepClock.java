package dev.sluice.trainer.job;

/**
 * Where a trainer's time goes: a step's time runs from the end of the previous step (so it includes waiting for
 * rows) to its own end; the wait is the part before its rows were all there.
 */
final class StepClock {

    private long lastStepEnd = System.nanoTime();
    private long stepStart;
    private long trainedNanos;
    private double lastWaitFraction;

    /** The step's rows are here: the wait ends. */
    void rowsArrived() {
        stepStart = System.nanoTime();
    }

    /** Ends the step; returns its seconds, wait included. */
    double stepEnded() {
        long end = System.nanoTime();
        double seconds = (end - lastStepEnd) / 1e9;
        trainedNanos += end - lastStepEnd;
        lastWaitFraction = (stepStart - lastStepEnd) / 1e9 / seconds;
        lastStepEnd = end;
        return seconds;
    }

    /** The last step's time waiting for rows over its whole time. */
    double dataWaitFraction() {
        return lastWaitFraction;
    }

    /** Time spent on anything but steps and waiting (evaluation, checkpoints) counts for neither. */
    void skip() {
        lastStepEnd = System.nanoTime();
    }

    /** Training time so far: steps and their waits (what results.json reports). */
    long trainedNanos() {
        return trainedNanos;
    }

    void restore(long trainedNanos) {
        this.trainedNanos = trainedNanos;
    }
}
