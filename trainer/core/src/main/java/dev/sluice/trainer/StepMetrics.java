package dev.sluice.trainer;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * One line of {@code metrics.jsonl}: what a training step did. Written and read only through {@link MetricsLog}.
 *
 * @param step 0-based step
 * @param lr Muon's learning rate at this step (the schedule's multiplier times {@code train.muon_lr})
 * @param tokens training tokens seen after this step
 * @param mfu model FLOP/s over {@code train.peak_flops} times the devices; absent when no peak is configured
 * @param dataWaitFraction time waiting for input over the step's time: whether the stream keeps up
 * @param firstSeqId the step's first sequence (absent where rows have no seq_id: train-local)
 * @param seqIdHash a hash of the step's seq_ids in order: equal hashes mean the same sequences in the same order
 * @param valLoss the evaluation after this step, when there was one
 * @param deviceStepShare with several devices ({@code train.devices}): each one's share of the forward/backward
 *     time, as {@link Trainer.StepResult#deviceSeconds} measures it; absent with one device
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StepMetrics(int step, double loss, double lr, double lrMultiplier, double muonMomentum,
                          int batchSequences, int longWindow, long tokens, double tokensPerSecond,
                          double flopsPerSecond, Double mfu, Double dataWaitFraction, Long firstSeqId,
                          Long lastSeqId, Long seqIdHash, Double valLoss, Double valBpb,
                          List<Double> deviceStepShare) {

    /** The step's own figures; the stream's (data wait, seq_ids) and evaluation are added with the withers. */
    public static StepMetrics of(SpeedrunConfig config, Trainer.StepResult r, long tokensSoFar, double seconds) {
        double flopsPerSecond = 3.0 * Flops.perToken(config.model(), config.seqLen()) * r.tokens() / seconds;
        int devices = r.deviceSeconds().size();
        double peak = config.train().peakFlops() * devices;
        double busy = r.deviceSeconds().stream().mapToDouble(Double::doubleValue).sum();
        List<Double> shares = devices == 1 ? null
                : r.deviceSeconds().stream().map(t -> busy > 0 ? t / busy : 0.0).toList();
        return new StepMetrics(r.step(), r.loss(), config.train().muonLr() * r.lrMultiplier(), r.lrMultiplier(),
                r.muonMomentum(), r.sequences(), r.longWindow(), tokensSoFar, r.tokens() / seconds, flopsPerSecond,
                peak > 0 ? flopsPerSecond / peak : null, null, null, null, null, null, null, shares);
    }

    public StepMetrics withStream(double dataWaitFraction, long firstSeqId, long lastSeqId, long seqIdHash) {
        return new StepMetrics(step, loss, lr, lrMultiplier, muonMomentum, batchSequences, longWindow, tokens,
                tokensPerSecond, flopsPerSecond, mfu, dataWaitFraction, firstSeqId, lastSeqId, seqIdHash, valLoss,
                valBpb, deviceStepShare);
    }

    public StepMetrics withEval(Trainer.EvalResult eval) {
        return new StepMetrics(step, loss, lr, lrMultiplier, muonMomentum, batchSequences, longWindow, tokens,
                tokensPerSecond, flopsPerSecond, mfu, dataWaitFraction, firstSeqId, lastSeqId, seqIdHash, eval.loss(),
                eval.bitsPerByte(), deviceStepShare);
    }
}
