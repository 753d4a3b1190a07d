package dev.sluice.trainer;

import dev.sluice.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The trainer on rows held in memory, no Kafka or Flink ({@code sluice train-local}): for a quick look at a config.
 * The streaming path is the TrainJob; both write the same {@code metrics.jsonl} and checkpoint.
 */
public record InMemoryTraining(SpeedrunConfig config, Tokenizer tokenizer) {

    /** Trains on {@code train} (cycled as needed), evaluates on {@code val}; returns the final evaluation. */
    public Trainer.EvalResult run(List<int[]> train, List<int[]> val, Path out, PrintStream progress)
            throws IOException {
        MetricsLog metrics = MetricsLog.startNew(out);
        try (Trainer t = new Trainer(config, tokenizer)) {
            int next = 0;
            while (!t.done()) {
                List<int[]> batch = new ArrayList<>();
                for (int i = 0; i < t.nextBatchSize(); i++) {
                    batch.add(train.get(next++ % train.size()));
                }
                Trainer.StepResult r = t.step(batch);
                StepMetrics m = StepMetrics.of(config, r, t.schedules().tokensBefore(r.step() + 1), r.seconds());
                if (config.train().evalEvery() > 0 && (r.step() + 1) % config.train().evalEvery() == 0) {
                    m = m.withEval(t.evaluate(val, 8));
                }
                metrics.append(m);
                progress.printf(Locale.ROOT, "\rstep %d/%d  loss %.3f  %.0f tok/s   ", r.step() + 1,
                        t.schedules().totalSteps(), r.loss(), m.tokensPerSecond());
            }
            progress.println();
            Trainer.EvalResult last = t.evaluate(val, 8);
            Checkpoint.save(t, out);
            return last;
        }
    }
}
