package dev.sluice.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.sluice.jobs.Speedruns;
import dev.sluice.tokenizer.Tokenizers;
import dev.sluice.trainer.Flops;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trainer FLOP/s (model FLOPs per step ÷ step time) against plain matmul FLOP/s measured in the same process on
 * the model's own biggest product (the lm_head: [B·T, d] × [d, V]).
 */
public final class TrainerBench {

    private TrainerBench() {}

    /**
     * {@code batch} 0: the config's first phase; {@code microBatch} -1: the config's. The run is always on the CPU
     * here.
     */
    public static int run(Path configPath, int steps, int batchOverride, int microBatch) {
        SpeedrunConfig loaded = SpeedrunConfig.load(Speedruns.resolve(configPath));
        int batch = batchOverride > 0 ? batchOverride : loaded.train().batchSchedule().get(0);
        SpeedrunConfig c = loaded.withTrain(Map.of("batch_schedule", List.of(batch),
                "micro_batch", microBatch >= 0 ? microBatch : loaded.train().microBatch(), "device", "cpu"));
        int seqLen = c.model().seqLen();
        double matmul = matmulFlops(batch * seqLen, c.model().dModel(), c.model().vocabSize());
        SplittableRandom r = new SplittableRandom(1);
        List<int[]> rows = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            int[] row = new int[seqLen + 1];
            for (int j = 0; j < row.length; j++) {
                row[j] = r.nextInt(c.model().vocabSize() / 2);
            }
            rows.add(row);
        }
        Trainer.StepResult best = null;
        try (Trainer t = new Trainer(c, Tokenizers.load(c.train().tokenizer()))) {
            for (int s = 0; s < steps + 2; s++) {
                Trainer.StepResult result = t.step(rows);
                if (s >= 2 && (best == null || result.seconds() < best.seconds())) {
                    best = result;
                }
            }
        }
        double flopsPerStep = 3.0 * Flops.perToken(c.model()) * batch * seqLen;
        double trainer = flopsPerStep / best.seconds();
        System.out.printf(Locale.ROOT, "config %s, %d sequences x %d tokens per step in passes of %d, best of %d steps%n",
                c.name(), batch, seqLen, c.train().microBatch() > 0 ? c.train().microBatch() : batch, steps);
        System.out.printf(Locale.ROOT, "plain matmul [%d x %d] x [%d x %d]: %.1f GFLOP/s%n", batch * seqLen,
                c.model().dModel(), c.model().dModel(), c.model().vocabSize(), matmul / 1e9);
        System.out.printf(Locale.ROOT, "trainer: %.2f s/step (optimizer %.2f s), %.1f GFLOP/s (model FLOPs)%n",
                best.seconds(), best.optimizerSeconds(), trainer / 1e9);
        System.out.printf(Locale.ROOT, "trainer / matmul = %.2f%n", trainer / matmul);
        return 0;
    }

    static double matmulFlops(int m, int k, int n) {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray a = manager.randomUniform(-1, 1, new Shape(m, k));
            NDArray b = manager.randomUniform(-1, 1, new Shape(k, n));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 6; i++) {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    long start = System.nanoTime();
                    a.matMul(b); // eager on the CPU: done when it returns
                    best = Math.min(best, (System.nanoTime() - start) / 1e9);
                }
            }
            return 2.0 * m * k * n / best;
        }
    }
}
