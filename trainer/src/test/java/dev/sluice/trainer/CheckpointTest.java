package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    @TempDir
    Path dir;

    static SpeedrunConfig config() {
        return Micro.config("seq_len: 64", "seq_len: 32", "train_tokens: 4608", "train_tokens: 1536",
                "window_start: 16", "window_start: 8", "window_block: 16", "window_block: 8");
    }


    static List<int[]> batch(int step, int size) {
        SplittableRandom r = new SplittableRandom(step);
        List<int[]> rows = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            int[] row = new int[33];
            for (int j = 0; j < row.length; j++) {
                row[j] = r.nextInt(500);
            }
            rows.add(row);
        }
        return rows;
    }

    @Test
    void resumingFromACheckpointGivesExactlyTheLossesOfARunThatNeverStopped() throws IOException {
        SpeedrunConfig config = config();
        Tokenizer gpt2 = Tokenizers.load("gpt2");
        List<Double> straight = new ArrayList<>();
        List<Double> resumed = new ArrayList<>();
        try (Trainer t = new Trainer(config, gpt2)) {
            assertEquals(8, t.schedules().totalSteps());
            while (!t.done()) {
                if (t.step() == 3) {
                    Checkpoint.save(t, dir);
                }
                straight.add(t.step(batch(t.step(), t.nextBatchSize())).loss());
            }
        }
        Checkpoint.Contents contents = Checkpoint.read(dir);
        assertEquals(3, contents.step());
        assertEquals(config, contents.config());
        try (Trainer t = new Trainer(contents.config(), gpt2)) {
            Checkpoint.restore(t, contents);
            while (!t.done()) {
                resumed.add(t.step(batch(t.step(), t.nextBatchSize())).loss());
            }
        }
        assertEquals(straight.subList(3, 8), resumed);
        assertTrue(straight.get(7) < straight.get(0), "loss fell: " + straight);
    }

    @Test
    void aDamagedCheckpointIsRefused() throws IOException {
        try (Trainer t = new Trainer(config(), Tokenizers.load("gpt2"))) {
            Checkpoint.save(t, dir);
        }
        byte[] bytes = Files.readAllBytes(Checkpoint.file(dir));
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(Checkpoint.file(dir), bytes);
        var e = assertThrows(IOException.class, () -> Checkpoint.read(dir));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        Files.write(Checkpoint.file(dir), new byte[] {1, 2, 3});
        assertThrows(IOException.class, () -> Checkpoint.read(dir));
    }

    @Test
    void microBatchesGiveTheLossesOfWholeSteps() {
        SpeedrunConfig whole = config();
        SpeedrunConfig micro = whole.withTrain(java.util.Map.of("micro_batch", 3));
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        for (var run : List.of(java.util.Map.entry(whole, a), java.util.Map.entry(micro, b))) {
            try (Trainer t = new Trainer(run.getKey(), Tokenizers.load("gpt2"))) {
                for (int s = 0; s < 4; s++) {
                    run.getValue().add(t.step(batch(s, t.nextBatchSize())).loss());
                }
            }
        }
        assertTrue(whole.train().batchSchedule().get(0) > 3, "the test needs several micro-batches per step");
        for (int s = 0; s < a.size(); s++) {
            assertEquals(a.get(s), b.get(s), 1e-5 * a.get(s), "step " + s); // float32 sums in another order
        }
    }

    @Test
    void theSameConfigAndSeedGiveTheSameLosses() {
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        for (List<Double> out : List.of(a, b)) {
            try (Trainer t = new Trainer(config(), Tokenizers.load("gpt2"))) {
                for (int s = 0; s < 3; s++) {
                    out.add(t.step(batch(s, t.nextBatchSize())).loss());
                }
            }
        }
        assertEquals(a, b);
    }
}
