package dev.sluice.trainer.job;

import ai.djl.Device;
import dev.sluice.trainer.Devices;
import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.Trainer;
import java.util.List;
import java.util.function.IntSupplier;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;

/**
 * The trainer's figures in the Flink Web UI (group {@code sluice}): the last step's metrics and evaluation, and per
 * device ({@code sluice.device.<i>}) its share of the step's forward/backward time and, on a GPU, the memory in use
 * on the card.
 */
final class TrainerGauges {

    private volatile StepMetrics last;
    private volatile Trainer.EvalResult lastEval;

    TrainerGauges(MetricGroup operator, IntSupplier step, List<Device> devices) {
        MetricGroup m = operator.addGroup("sluice");
        m.gauge("step", (Gauge<Integer>) step::getAsInt);
        m.gauge("loss", (Gauge<Double>) () -> last == null ? Double.NaN : last.loss());
        m.gauge("lr", (Gauge<Double>) () -> last == null ? Double.NaN : last.lr());
        m.gauge("muonMomentum", (Gauge<Double>) () -> last == null ? Double.NaN : last.muonMomentum());
        m.gauge("batchSequences", (Gauge<Integer>) () -> last == null ? 0 : last.batchSequences());
        m.gauge("tokensPerSecond", (Gauge<Double>) () -> last == null ? Double.NaN : last.tokensPerSecond());
        m.gauge("flopsPerSecond", (Gauge<Double>) () -> last == null ? Double.NaN : last.flopsPerSecond());
        m.gauge("mfu", (Gauge<Double>) () -> last == null || last.mfu() == null ? Double.NaN : last.mfu());
        m.gauge("dataWaitFraction", (Gauge<Double>) () -> last == null ? Double.NaN : last.dataWaitFraction());
        m.gauge("valBitsPerByte", (Gauge<Double>) () -> lastEval == null ? Double.NaN : lastEval.bitsPerByte());
        for (int i = 0; i < devices.size(); i++) {
            int replica = i;
            Device device = devices.get(i);
            MetricGroup d = m.addGroup("device", String.valueOf(i));
            d.gauge("stepShare", (Gauge<Double>) () -> last == null ? Double.NaN
                    : last.deviceStepShare() == null ? 1.0 : last.deviceStepShare().get(replica));
            d.gauge("memoryUsedBytes", (Gauge<Long>) () -> Devices.memoryInUse(device));
        }
    }

    void stepped(StepMetrics m) {
        last = m;
    }

    void evaluated(Trainer.EvalResult eval) {
        lastEval = eval;
    }
}
