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

    static final String CONFIG = """
            name: ckpt
            model: {d_model: 32, n_layers: 2, n_heads: 2, head_dim: 16, seq_len: 32, norm_after_embedding: true,
                    qk_norm: true, rope_fraction: 0.5, attn_scale: 1.35, relu_squared: true, residual_mix: true,
                    backout: true, zero_init: true, logit_softcap: 15, sliding_window: true, rope_rescale: true}
            train: {tokenizer: gpt2, train_tokens: 1536, batch_schedule: [4, 8], muon_lr: 0.05,
                    muon_momentum_start: 0.85, muon_momentum_end: 0.95, muon_momentum_warmup_steps: 4,
                    adam_lr: 0.008, embedding_lr_multiplier: 75, scalar_lr_multiplier: 5, adam_beta1: 0.8,
                    adam_beta2: 0.95, adam_eps: 1.0e-10, cooldown_fraction: 0.5, window_start: 8, window_block: 8,
                    seed: 3}
            """;

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
        SpeedrunConfig config = SpeedrunConfig.parse(CONFIG);
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
        try (Trainer t = new Trainer(SpeedrunConfig.parse(CONFIG), Tokenizers.load("gpt2"))) {
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
    void theSameConfigAndSeedGiveTheSameLosses() {
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        for (List<Double> out : List.of(a, b)) {
            try (Trainer t = new Trainer(SpeedrunConfig.parse(CONFIG), Tokenizers.load("gpt2"))) {
                for (int s = 0; s < 3; s++) {
                    out.add(t.step(batch(s, t.nextBatchSize())).loss());
                }
            }
        }
        assertEquals(a, b);
    }
}
