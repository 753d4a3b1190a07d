package dev.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Packing chained to the readers keeps each split's partial windows in union state: a split that moves to another
 * subtask (at another parallelism) on a restore packs on exactly as an uninterrupted run, stale copies left on
 * other subtasks never win, and an ended split is not revived. Through Flink's own operator harness.
 */
class PackRestoreTest {

    static final int MAX_PARALLELISM = 8;

    /** Documents of two splits; a window is 4 tokens (seq_len 3), so they cut across documents. */
    static final List<TokenizedRecord> SPLIT_0 = List.of(doc(0, 1, 2), doc(0, 3, 4, 5), doc(0, 6), doc(0, 7, 8, 9, 10, 11),
            doc(0, 12, 13), TokenizedRecord.end(0, "a"));
    static final List<TokenizedRecord> SPLIT_1 = List.of(doc(1, 21, 22, 23), doc(1, 24), doc(1, 25, 26, 27, 28),
            TokenizedRecord.end(1, "a"));

    static TokenizedRecord doc(int split, int... ids) {
        return new TokenizedRecord(split, "a", ids, false, false, 0.5);
    }

    static OneInputStreamOperatorTestHarness<TokenizedRecord, PackedSequence> harness(int parallelism, int subtask)
            throws Exception {
        return new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new Pack(3, false, 99, "t")),
                MAX_PARALLELISM, parallelism, subtask);
    }

    @SuppressWarnings("unchecked")
    static Pack pack(OneInputStreamOperatorTestHarness<TokenizedRecord, PackedSequence> h) {
        return (Pack) ((ProcessOperator<TokenizedRecord, PackedSequence>) h.getOperator()).getUserFunction();
    }

    /** A run's output as "split/window: tokens" lines, end markers as "split/end: windows". */
    static List<String> lines(List<PackedSequence> out) {
        List<String> lines = new ArrayList<>();
        for (PackedSequence s : out) {
            lines.add(s.shardOrdinal() + "/" + (s.isEndOfShard() ? "end: " + s.window()
                    : s.window() + ": " + Arrays.toString(s.tokens())));
        }
        return lines;
    }

    static List<String> uninterrupted(List<TokenizedRecord> split) throws Exception {
        try (var h = harness(1, 0)) {
            h.open();
            for (TokenizedRecord r : split) {
                h.processElement(r, 0);
            }
            return lines(h.extractOutputValues());
        }
    }

    static void feed(OneInputStreamOperatorTestHarness<TokenizedRecord, PackedSequence> h, List<TokenizedRecord> records,
                     int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            h.processElement(records.get(i), i);
        }
    }

    static OperatorSubtaskState restoreState(OperatorSubtaskState[] snapshots, int oldParallelism, int parallelism,
                                             int subtask) throws Exception {
        return AbstractStreamOperatorTestHarness.repartitionOperatorState(
                AbstractStreamOperatorTestHarness.repackageState(snapshots), MAX_PARALLELISM, oldParallelism,
                parallelism, subtask);
    }

    @Test
    void aSplitMovedToAnotherSubtaskAtAnotherParallelismPacksOnAsIfUninterrupted() throws Exception {
        List<String> out0 = new ArrayList<>();
        List<String> out1 = new ArrayList<>();
        OperatorSubtaskState[] first = new OperatorSubtaskState[2];
        try (var a = harness(2, 0); var b = harness(2, 1)) {
            a.open();
            b.open();
            feed(a, SPLIT_0, 0, 2);
            feed(b, SPLIT_1, 0, 1);
            first[0] = a.snapshot(1, 1);
            first[1] = b.snapshot(1, 1);
            out0.addAll(lines(a.extractOutputValues()));
            out1.addAll(lines(b.extractOutputValues()));
        }
        // restored at parallelism 3: split 0 goes on at subtask 2, split 1 at subtask 0; subtask 1 only holds copies
        OperatorSubtaskState[] second = new OperatorSubtaskState[3];
        try (var a = harness(3, 0); var b = harness(3, 1); var c = harness(3, 2)) {
            a.initializeState(restoreState(first, 2, 3, 0));
            b.initializeState(restoreState(first, 2, 3, 1));
            c.initializeState(restoreState(first, 2, 3, 2));
            a.open();
            b.open();
            c.open();
            assertEquals(java.util.Set.of(0, 1), pack(b).splitsHeld(), "every subtask gets every open split back");
            feed(c, SPLIT_0, 2, 4);
            feed(a, SPLIT_1, 1, 4); // split 1 ends here
            second[0] = a.snapshot(2, 2);
            second[1] = b.snapshot(2, 2);
            second[2] = c.snapshot(2, 2);
            out0.addAll(lines(c.extractOutputValues()));
            out1.addAll(lines(a.extractOutputValues()));
        }
        assertEquals(uninterrupted(SPLIT_1), out1, "split 1 across the restore");
        // again at parallelism 1: subtask 1's stale copy of split 0 (2 records) loses to subtask 2's (4 records),
        // and split 1, ended after the last restore, is not revived by the copies subtasks 1 and 2 still held
        try (var only = harness(1, 0)) {
            only.initializeState(restoreState(second, 3, 1, 0));
            only.open();
            assertEquals(java.util.Set.of(0), pack(only).splitsHeld(), "split 1 ended: only split 0 is open");
            feed(only, SPLIT_0, 4, SPLIT_0.size());
            out0.addAll(lines(only.extractOutputValues()));
        }
        assertEquals(uninterrupted(SPLIT_0), out0, "split 0 across two restores");
        assertTrue(out0.stream().anyMatch(l -> l.startsWith("0/2: ")), "the test cuts windows across restores");
        assertFalse(out0.isEmpty());
    }
}
