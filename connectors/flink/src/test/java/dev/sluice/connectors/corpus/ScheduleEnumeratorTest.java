package dev.sluice.connectors.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.metrics.groups.SplitEnumeratorMetricGroup;
import org.junit.jupiter.api.Test;

/** The enumerator's window, driven through Flink's enumerator interface by a context that records what it is told. */
class ScheduleEnumeratorTest {

    /** Records assignments and end signals; readers 0..parallelism-1 are registered. */
    static final class Recorder implements SplitEnumeratorContext<FileSourceSplit> {
        final int parallelism;
        final Map<Integer, List<Integer>> assigned = new HashMap<>();
        final List<Integer> ended = new ArrayList<>();

        Recorder(int parallelism) {
            this.parallelism = parallelism;
        }

        @Override
        public SplitEnumeratorMetricGroup metricGroup() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void sendEventToSourceReader(int subtask, SourceEvent event) {}

        @Override
        public int currentParallelism() {
            return parallelism;
        }

        @Override
        public Map<Integer, ReaderInfo> registeredReaders() {
            Map<Integer, ReaderInfo> readers = new HashMap<>();
            for (int i = 0; i < parallelism; i++) {
                readers.put(i, new ReaderInfo(i, "localhost"));
            }
            return readers;
        }

        @Override
        public void assignSplits(SplitsAssignment<FileSourceSplit> assignment) {
            assignment.assignment().forEach((subtask, splits) -> splits.forEach(s ->
                    assigned.computeIfAbsent(subtask, k -> new ArrayList<>()).add(ShardSchedule.ordinal(s.splitId()))));
        }

        @Override
        public void signalNoMoreSplits(int subtask) {
            ended.add(subtask);
        }

        @Override
        public <T> void callAsync(Callable<T> callable, BiConsumer<T, Throwable> handler) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <T> void callAsync(Callable<T> callable, BiConsumer<T, Throwable> handler, long delay, long period) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void runInCoordinatorThread(Runnable runnable) {
            runnable.run();
        }

        List<Integer> of(int subtask) {
            return assigned.getOrDefault(subtask, List.of());
        }
    }

    static ScheduleEnumerator.State splits(long... lengths) {
        List<FileSourceSplit> splits = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            splits.add(new FileSourceSplit(ShardSchedule.id(i, "s"), new org.apache.flink.core.fs.Path("/x/" + i),
                    0, lengths[i], 0, lengths[i]));
        }
        return new ScheduleEnumerator.State(splits, lengths.length, Set.of());
    }

    @Test
    void aReaderWaitsBehindABigSplitUntilItIsRead() {
        var ctx = new Recorder(2);
        // window: 2 readers x 2 x 20 bytes = 80 stored bytes
        var e = new ScheduleEnumerator(ctx, splits(100, 10, 10, 10, 10, 10), null, 20);
        e.handleSplitRequest(0, "h");
        e.handleSplitRequest(1, "h");
        assertEquals(List.of(0), ctx.of(0));
        assertEquals(List.of(1), ctx.of(1));
        e.handleSplitRequest(1, "h"); // finished split 1; 0..2 would span 120 bytes
        assertEquals(List.of(1), ctx.of(1), "waits while split 0 is read");
        e.handleSplitRequest(0, "h"); // split 0 done: both go on
        assertEquals(List.of(1, 2), ctx.of(1));
        assertEquals(List.of(0, 3), ctx.of(0));
    }

    @Test
    void smallSplitsAreReadSideBySideWithinTheBytes() {
        var ctx = new Recorder(2);
        var e = new ScheduleEnumerator(ctx, splits(10, 10, 10, 10, 10, 10, 10, 10, 10, 10), null, 20);
        e.handleSplitRequest(0, "h");
        for (int i = 0; i < 8; i++) {
            e.handleSplitRequest(1, "h"); // reader 1 races through small splits while reader 0 holds split 0
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), ctx.of(1), "0..7 span 80 bytes; 8 would make 90");
        e.handleSplitRequest(0, "h"); // split 0 done: the waiting reader first, then this one
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), ctx.of(1));
        assertEquals(List.of(0, 9), ctx.of(0));
        e.handleSplitRequest(0, "h");
        e.handleSplitRequest(1, "h");
        assertEquals(List.of(0, 1), ctx.ended.stream().sorted().toList(), "a bounded run ends every reader");
    }

    @Test
    void aFailedReadersSplitGoesBackAndOutFirst() throws Exception {
        var ctx = new Recorder(2);
        var e = new ScheduleEnumerator(ctx, splits(10, 10, 10), null, 20);
        e.handleSplitRequest(0, "h");
        e.handleSplitRequest(1, "h");
        var back = new FileSourceSplit(ShardSchedule.id(1, "s"), new org.apache.flink.core.fs.Path("/x/1"), 0, 10, 0, 10);
        e.addSplitsBack(List.of(back), 1);
        e.handleSplitRequest(1, "h");
        assertEquals(List.of(1, 1), ctx.of(1));

        var serializer = new ScheduleEnumerator.StateSerializer();
        ScheduleEnumerator.State state = e.snapshotState(1);
        var restored = serializer.deserialize(serializer.getVersion(), serializer.serialize(state));
        assertEquals(state.nextOrdinal(), restored.nextOrdinal());
        assertEquals(List.of("2@s /x/2 0+10"), restored.unassigned().stream()
                .map(s -> s.splitId() + " " + s.path() + " " + s.offset() + "+" + s.length()).toList());
    }
}
