package dev.sluice.trainer.job;

import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.trainer.Schedules;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Cuts the topic's rows into steps by the batch-size schedule and deals each step to the ranks in equal shards
 * (parallelism 1, so the rows keep the topic's order). A step's shards leave in one call, so a checkpoint barrier
 * always follows whole steps: every rank snapshots after the same step. The rows received but not yet dealt and
 * the next step's number are its state; what arrives after the last step is dropped.
 */
final class StepDealer extends ProcessFunction<TokenBatch, StepShard> implements CheckpointedFunction {

    private final TrainJobConfig job;

    private transient Schedules schedules;
    private transient PendingRows pending;
    private transient int step;
    private transient ListState<byte[]> state;

    StepDealer(TrainJobConfig job) {
        this.job = job;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        schedules = job.speedrun().schedules();
        pending = new PendingRows();
        step = 0;
        state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("dealer", byte[].class));
        for (byte[] bytes : state.get()) { // at most one: parallelism 1
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            step = in.readInt();
            pending.read(in);
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        var bytes = new ByteArrayOutputStream(1 << 16);
        var out = new DataOutputStream(bytes);
        out.writeInt(step);
        pending.write(out);
        out.flush();
        state.update(List.of(bytes.toByteArray()));
    }

    @Override
    public void processElement(TokenBatch batch, Context ctx, Collector<StepShard> out) {
        if (step >= schedules.totalSteps()) {
            return; // the schedule is done: what still arrives is not trained on, and not kept
        }
        pending.add(batch);
        while (step < schedules.totalSteps() && pending.size() >= schedules.batchSequences(step)) {
            for (StepShard shard : StepShard.deal(step, pending.take(schedules.batchSequences(step)), job.ranks())) {
                out.collect(shard);
            }
            step++;
        }
    }
}
