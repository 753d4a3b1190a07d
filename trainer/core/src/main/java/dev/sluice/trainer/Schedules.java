package dev.sluice.trainer;

import java.util.List;

/**
 * The speedrun's schedules, each a pure function of the step: sequences per step, learning-rate multiplier,
 * Muon momentum and the long attention window. Training length is fixed up front from the token budget.
 */
public record Schedules(int totalSteps, List<Integer> batchPhases, int seqLen, double cooldownFraction,
                        double momentumStart, double momentumEnd, int momentumWarmupSteps, int windowStart,
                        int windowBlock, double lrBatchExponent, int momentumCooldownSteps,
                        List<Integer> windowPhases) {

    /**
     * As many whole steps as fit in {@code tokens} (Levanter's {@code tokens // (batch · seq_len)}), the phases
     * each an equal share of them; at least one step per phase.
     */
    public static Schedules of(TrainConfig t, int seqLen, long tokens) {
        long perRound = (long) seqLen * t.batchSchedule().stream().mapToInt(Integer::intValue).sum();
        int stepsPerPhase = (int) Math.max(1, tokens / perRound);
        return new Schedules(stepsPerPhase * t.batchSchedule().size(), t.batchSchedule(), seqLen, t.cooldownFraction(),
                t.muonMomentumStart(), t.muonMomentumEnd(), t.muonMomentumWarmupSteps(), Math.min(t.windowStart(), seqLen),
                t.windowBlock(), t.lrBatchExponent() == null ? 0 : t.lrBatchExponent(),
                t.muonMomentumCooldownSteps() == null ? 0 : t.muonMomentumCooldownSteps(), t.windowSchedule());
    }

    /** Sequences in step {@code step}'s batch: phase i covers steps [i·N/P, (i+1)·N/P). */
    public int batchSequences(int step) {
        int phase = (int) Math.min(batchPhases.size() - 1, (long) step * batchPhases.size() / totalSteps);
        return batchPhases.get(phase);
    }

    /** Tokens trained on in steps [0, step). */
    public long tokensBefore(int step) {
        long n = 0;
        for (int s = 0; s < step; s++) {
            n += (long) batchSequences(s) * seqLen;
        }
        return n;
    }

    public long totalTokens() {
        return tokensBefore(totalSteps);
    }

    /**
     * LR multiplier: the phase's peak until the cooldown, then linear down to 0.1 at the last step (modded-nanogpt's
     * {@code lr_max·w + 0.1·(1−w)}). The peak is 1, or (batch ÷ first batch)^lr_batch_exponent when that is set.
     */
    public double lrMultiplier(int step) {
        double peak = Math.pow((double) batchSequences(step) / batchPhases.get(0), lrBatchExponent);
        double cooldownStart = totalSteps * (1 - cooldownFraction);
        if (step < cooldownStart || cooldownFraction == 0) {
            return peak;
        }
        double progress = Math.min(1.0, (step - cooldownStart) / Math.max(1.0, totalSteps - 1 - cooldownStart));
        return peak - (peak - 0.1) * progress; // with a peak of 1: 1 − 0.9·progress, bit for bit
    }

    /**
     * Muon momentum: linear from start to end over the warm-up steps, then flat, then (with a cooldown) linear back
     * towards start over the last steps, as modded-nanogpt's {@code get_muon_momentum}.
     */
    public double muonMomentum(int step) {
        int cooldownStart = totalSteps - momentumCooldownSteps;
        if (momentumCooldownSteps > 0 && step > cooldownStart) {
            double frac = (double) (step - cooldownStart) / momentumCooldownSteps;
            return momentumEnd - frac * (momentumEnd - momentumStart);
        }
        double frac = momentumWarmupSteps <= 0 ? 1.0 : Math.min(1.0, (double) step / momentumWarmupSteps);
        return momentumStart + (momentumEnd - momentumStart) * frac;
    }

    /**
     * The long window: the window schedule's entry for the step's share of the run when there is one (capped at
     * seq_len), else growing linearly from window_start to seq_len, rounded down to whole blocks.
     */
    public int longWindow(int step) {
        if (!windowPhases.isEmpty()) {
            int phase = (int) Math.min(windowPhases.size() - 1, (long) step * windowPhases.size() / totalSteps);
            return Math.min(seqLen, windowPhases.get(phase));
        }
        double frac = totalSteps <= 1 ? 1.0 : (double) step / (totalSteps - 1);
        double w = windowStart + (seqLen - windowStart) * frac;
        int blocks = (int) Math.floor(w / windowBlock);
        return Math.max(windowStart, Math.min(seqLen, blocks * windowBlock));
    }

    /** The distinct long windows of steps [0, step], in order: the history rotary rescaling compounds over. */
    public int[] longWindowsThrough(int step) {
        int[] seen = new int[step + 1];
        int n = 0;
        for (int s = 0; s <= step; s++) {
            int w = longWindow(s);
            if (n == 0 || seen[n - 1] != w) {
                seen[n++] = w;
            }
        }
        return java.util.Arrays.copyOf(seen, n);
    }
}
