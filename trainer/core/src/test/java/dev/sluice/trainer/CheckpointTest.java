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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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

    @ParameterizedTest
    @ValueSource(strings = {"float32", "bfloat16"}) // bf16 compute: the checkpoint holds the float32 master state
    void resumingFromACheckpointGivesExactlyTheLossesOfARunThatNeverStopped(String dtype) throws IOException {
        SpeedrunConfig config = config().withTrain(java.util.Map.of("dtype", dtype));
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
        Checkpoint.Header header = Checkpoint.readHeader(dir);
        assertEquals(3, header.step());
        assertEquals(config, header.config());
        try (Trainer t = new Trainer(header.config(), gpt2)) {
            Checkpoint.restore(t, dir);
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
        try (Trainer t = new Trainer(config(), Tokenizers.load("gpt2"))) {
            var e = assertThrows(IOException.class, () -> Checkpoint.restore(t, dir));
            assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
            Files.write(Checkpoint.file(dir), new byte[] {1, 2, 3});
            assertThrows(IOException.class, () -> Checkpoint.restore(t, dir));
        }
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

    /** The checkpoint's bytes with {@code edit} applied and the CRC-32 trailer recomputed, written back. */
    void edit(java.util.function.Consumer<java.nio.ByteBuffer> edit) throws IOException {
        byte[] bytes = Files.readAllBytes(Checkpoint.file(dir));
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
        edit.accept(b);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes, 0, bytes.length - 8);
        b.putLong(bytes.length - 8, crc.getValue());
        Files.write(Checkpoint.file(dir), bytes);
    }

    /** Offset of the step field: magic, version, then the config as a UTF string (2-byte length first). */
    static int stepOffset(java.nio.ByteBuffer b) {
        return 12 + 2 + Short.toUnsignedInt(b.getShort(12));
    }

    /** Offset of the first tensor's dtype byte: after the step and count ints and the tensor's name. */
    static int firstDtypeOffset(java.nio.ByteBuffer b) {
        int name = stepOffset(b) + 8;
        return name + 2 + Short.toUnsignedInt(b.getShort(name));
    }

    @Test
    void aCheckpointMissingATensorOrWithAnUnknownDtypeOrAnotherShapeIsRefusedByName() throws IOException {
        Tokenizer gpt2 = Tokenizers.load("gpt2");
        try (Trainer t = new Trainer(config(), gpt2)) {
            Checkpoint.save(t, dir); // step 0: parameters only, no optimizer state yet
        }
        edit(b -> b.putInt(stepOffset(b), 3)); // now it claims step 3, which needs the optimizer's state
        try (Trainer t = new Trainer(config(), gpt2)) {
            var e = assertThrows(IOException.class, () -> Checkpoint.restore(t, dir));
            assertTrue(e.getMessage().contains("has no tensor adam.m/wte, adam.v/wte, muon/h.0.attn.wq")
                    && e.getMessage().contains("in all)"), e.getMessage());
        }
        edit(b -> b.putInt(stepOffset(b), 0));
        edit(b -> b.put(firstDtypeOffset(b), (byte) 7));
        try (Trainer t = new Trainer(config(), gpt2)) {
            var e = assertThrows(IOException.class, () -> Checkpoint.restore(t, dir));
            assertTrue(e.getMessage().contains("tensor param/") && e.getMessage().contains("unknown dtype code 7"),
                    e.getMessage());
        }
        edit(b -> b.put(firstDtypeOffset(b), (byte) 0));
        edit(b -> { // a [rows, cols] tensor read as [cols, rows]: the same bytes, another shape
            int rank = firstDtypeOffset(b) + 1;
            assertEquals(2, b.getInt(rank), "the first tensor (the embedding) is a matrix");
            long rows = b.getLong(rank + 4);
            b.putLong(rank + 4, b.getLong(rank + 12));
            b.putLong(rank + 12, rows);
        });
        try (Trainer t = new Trainer(config(), gpt2)) {
            var e = assertThrows(IOException.class, () -> Checkpoint.restore(t, dir));
            assertTrue(e.getMessage().contains("has shape") && e.getMessage().contains("the model has"),
                    e.getMessage());
        }
    }

    @Test
    void aStateLargerThan2GiBCheckpointsAndRestoresExactly() throws IOException {
        // 1.5 M ids x 64 dims: the embedding and lm_head with Adam's two moments each hold 2.3 GB after one step
        SpeedrunConfig big = Micro.config("d_model: 32", "d_model: 64", "n_heads: 2", "n_heads: 4", "seq_len: 64",
                "seq_len: 8", "window_start: 16", "window_start: 8", "window_block: 16", "window_block: 8")
                .withModel(java.util.Map.of("vocab_size", 1500032));
        Tokenizer gpt2 = Tokenizers.load("gpt2");
        List<int[]> rows = new ArrayList<>();
        for (int[] r : batch(0, 4)) {
            rows.add(java.util.Arrays.copyOf(r, 9));
        }
        try (Trainer original = new Trainer(big, gpt2)) {
            original.step(rows);
            Checkpoint.save(original, dir);
            long size = Files.size(Checkpoint.file(dir));
            assertTrue(size > (2L << 30), "state of " + size + " bytes");
            Checkpoint.Header header = Checkpoint.readHeader(dir); // what bin/sluice eval reads first
            assertEquals(1, header.step());
            try (Trainer restored = new Trainer(header.config(), gpt2)) {
                Checkpoint.restore(restored, dir);
                assertEquals(original.step(rows).loss(), restored.step(rows).loss(), 0.0, "the next step's loss");
            }
        }
    }
}
