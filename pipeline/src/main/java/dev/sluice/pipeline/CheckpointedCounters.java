package dev.sluice.pipeline;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.runtime.state.FunctionInitializationContext;

/**
 * Counters that end up in the job's accumulators (the run summary) and survive failover. Flink keeps only the last
 * attempt's accumulators, so each subtask checkpoints its counts and starts a restored attempt from them; the
 * records re-read after the checkpoint are then counted once.
 */
final class CheckpointedCounters {

    private final Map<String, LongCounter> counters = new LinkedHashMap<>();
    private final long[] restored;
    private ListState<long[]> state;

    CheckpointedCounters(List<String> names) {
        names.forEach(n -> counters.put(n, new LongCounter()));
        this.restored = new long[names.size()];
    }

    void initialize(FunctionInitializationContext context, String stateName) throws Exception {
        state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>(stateName, long[].class));
        for (long[] values : state.get()) {
            for (int i = 0; i < restored.length; i++) {
                restored[i] += values[i];
            }
        }
    }

    /** Registers the counters as accumulators named {@code prefix + name}, starting from the restored counts. */
    void register(RuntimeContext runtime, String prefix) {
        int i = 0;
        for (var e : counters.entrySet()) {
            e.getValue().add(restored[i++]);
            runtime.addAccumulator(prefix + e.getKey(), e.getValue());
        }
    }

    void add(String name, long n) {
        counters.get(name).add(n);
    }

    void snapshot() throws Exception {
        long[] values = counters.values().stream().mapToLong(LongCounter::getLocalValuePrimitive).toArray();
        state.update(List.of(values));
    }
}
