package dev.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The sampler's state through Flink's own operator harness: a snapshot restores into the same partitions and
 * continues, and a restore that changed partitions, seq_len, tokenizer or the shard set is refused by name.
 */
class MixtureBatchRestoreTest {

    static final BatchMeta GPT2 = new BatchMeta("gpt2", 50257, 50256, 50256, 4, BatchMeta.UINT16_IDS);
    static final double[][] CLOCK = {{0, 1}, {1, 1}, {2, 1}, {3, 1}};

    static OneInputStreamOperatorTestHarness<PackedSequence, TokenBatch> harness(BatchMeta meta, String shards,
                                                                                 int partitions, int partition)
            throws Exception {
        var function = MixtureBatchFunction.builder().writes("train", "t", meta).batchSequences(2)
                .sources(List.of("a")).clock(CLOCK).shuffle(7, 4).bounded(true).shardSet(shards).build();
        return new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(function), 8, partitions, partition);
    }

    /** Partition 0 of 2 after reading part of its shard 0: its state as a checkpoint holds it. */
    static OperatorSubtaskState[] snapshotOfTwo() throws Exception {
        OperatorSubtaskState[] states = new OperatorSubtaskState[2];
        for (int p = 0; p < 2; p++) {
            try (var h = harness(GPT2, "4 shards", 2, p)) {
                h.open();
                for (int w = 0; w < 3; w++) {
                    h.processElement(new PackedSequence("train", "a", p, w, new int[] {1, 2, 3, 4, 5}, 0.1 * w), w);
                }
                states[p] = h.snapshot(1, 1);
            }
        }
        return states;
    }

    @Test
    void aRestoreIntoTheSamePartitionsContinues() throws Exception {
        OperatorSubtaskState[] states = snapshotOfTwo();
        OperatorSubtaskState merged = AbstractStreamOperatorTestHarness.repackageState(states);
        try (var h = harness(GPT2, "4 shards", 2, 0)) {
            h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(merged, 8, 2, 2, 0));
            h.open();
            h.processElement(PackedSequence.endOfShard("train", "a", 0, 3), 4);
            h.processElement(PackedSequence.endOfShard("train", "a", 2, 0), 5);
            long rows = h.extractOutputValues().stream().mapToLong(TokenBatch::size).sum();
            assertEquals(3, rows, "the three windows read before the checkpoint, once each");
        }
    }

    @Test
    void aRestoreThatChangedWhatTheOrderDependsOnIsRefusedNamingIt() throws Exception {
        OperatorSubtaskState merged = AbstractStreamOperatorTestHarness.repackageState(snapshotOfTwo());
        BatchMeta marin = new BatchMeta("marin", 128256, 128000, 128001, 8, BatchMeta.INT32_IDS);
        for (var c : List.of(
                new Object[] {GPT2, "4 shards", 3, "partitions was 2, is 3"},
                new Object[] {marin, "4 shards", 2, "tokenizer was gpt2, is marin; seq_len was 4, is 8"},
                new Object[] {GPT2, "5 shards", 2, "the shard set was 4 shards, is 5 shards"})) {
            int partitions = (int) c[2];
            try (var h = harness((BatchMeta) c[0], (String) c[1], partitions, 0)) {
                var restored = AbstractStreamOperatorTestHarness.repartitionOperatorState(merged, 8, 2, partitions, 0);
                var e = assertThrows(Exception.class, () -> h.initializeState(restored)); // before any record
                Throwable root = e;
                while (root.getCause() != null && !(root instanceof IllegalStateException)) {
                    root = root.getCause();
                }
                assertTrue(root.getMessage().contains("cannot restore the train sampler of t: " + c[3]),
                        root.getMessage());
            }
        }
    }
}
