package dev.sluice.trainer.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.trainer.Checkpoint;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.Trainer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer as a Flink operator (parallelism 1 per device): rows arrive from the train topic, the batch-size
 * schedule decides how many make a step, and each step runs synchronously. Model, optimizer state, step, the rows
 * received but not yet trained and the metrics log's length are all Flink state, taken with the source's Kafka
 * offsets in the same checkpoint: a restored job continues exactly where the checkpoint left it.
 */
public final class TrainerFunction extends ProcessFunction<TokenBatch, String>
        implements CheckpointedFunction, CheckpointListener {

    private static final Logger LOG = LoggerFactory.getLogger(TrainerFunction.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainJobConfig job;
    private final Properties kafka;
    private final StateFiles.Location stateFilesAt;
    private final StepListener listener;

    private transient Trainer trainer;
    private transient PendingRows pending;
    private transient MetricsLog metrics;
    private transient StepClock clock;
    private transient EvalRows evalRows;
    private transient TrainerGauges gauges;
    private transient Trainer.EvalResult lastEval;
    private transient boolean finished;
    private transient ListState<byte[]> state;
    private transient StateFiles stateFiles;
    private transient Map<Long, String> snapshotLines;

    /** @param stateFilesAt where model and optimizer state go at each checkpoint */
    TrainerFunction(TrainJobConfig job, Properties kafka, StateFiles.Location stateFilesAt, StepListener listener) {
        this.listener = listener;
        this.job = job;
        this.kafka = kafka;
        this.stateFilesAt = stateFilesAt;
    }

    private SpeedrunConfig speedrun() {
        return job.speedrun();
    }

    private Path outDir() {
        return Path.of(job.outDir());
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        trainer = new Trainer(speedrun(), speedrun().tokenizer().load());
        pending = new PendingRows();
        clock = new StepClock();
        metrics = null;
        stateFiles = new StateFiles(stateFilesAt);
        snapshotLines = new HashMap<>();
        state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("trainer", byte[].class));
        for (byte[] bytes : state.get()) { // at most one: the operator runs at parallelism 1
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            pending.read(in);
            metrics = new MetricsLog(outDir(), in.readLong());
            clock.restore(in.readLong());
            finished = in.readBoolean();
            StateFiles.Ref ref = new StateFiles.Ref(in.readUTF(), in.readLong(), in.readLong());
            metrics.truncate(); // the lines after the checkpoint will be written again
            StateFiles.restore(trainer, ref);
            stateFiles.restored(ref);
            LOG.info("trainer restored at step {} with {} rows pending", trainer.step(), pending.size());
            // A record of every restore, next to the metrics, so a run's history shows where it resumed.
            Files.writeString(outDir().resolve("restores.jsonl"), JSON.createObjectNode()
                    .put("restored_step", trainer.step()).put("pending_rows", pending.size()) + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        if (metrics == null) {
            metrics = MetricsLog.startNew(outDir()); // a fresh run, not a restore
        }
    }

    /** The operator state is small (the rows waiting for a step, counters, a reference); the model goes to a file. */
    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        StateFiles.Ref ref = stateFiles.write(context.getCheckpointId(), trainer);
        var bytes = new ByteArrayOutputStream(1 << 16);
        var out = new DataOutputStream(bytes);
        pending.write(out);
        out.writeLong(metrics.length());
        out.writeLong(clock.trainedNanos());
        out.writeBoolean(finished);
        out.writeUTF(ref.uri());
        out.writeLong(ref.bytes());
        out.writeLong(ref.crc32());
        out.flush();
        state.update(List.of(bytes.toByteArray()));
        snapshotLines.put(context.getCheckpointId(), JSON.createObjectNode()
                .put("checkpoint_id", context.getCheckpointId()).put("step", trainer.step())
                .put("state_file", ref.uri()).put("bytes", ref.bytes()) + "\n");
        clock.skip(); // time spent checkpointing is not time spent waiting for data
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws IOException {
        stateFiles.completed(checkpointId);
        String line = snapshotLines.remove(checkpointId);
        if (line != null) { // a record of what Flink holds, as restores.jsonl records what came back
            Files.writeString(outDir().resolve("checkpoints.jsonl"), line, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
    }

    @Override
    public void notifyCheckpointAborted(long checkpointId) {
        stateFiles.aborted(checkpointId);
        snapshotLines.remove(checkpointId);
    }

    @Override
    public void open(OpenContext context) throws Exception {
        evalRows = new EvalRows(kafka, job.valTopic(), job.data().meta(job.data().tokenizer()),
                speedrun().train().evalSequences());
        evalRows.get();
        gauges = new TrainerGauges(getRuntimeContext().getMetricGroup(), () -> trainer.step(), trainer.devices());
        clock.skip();
    }

    @Override
    public void processElement(TokenBatch batch, Context ctx, Collector<String> out) throws Exception {
        if (finished) {
            return; // the schedule is done: what still arrives is not trained on, and not kept
        }
        pending.add(batch);
        while (!trainer.done() && pending.size() >= trainer.nextBatchSize()) {
            out.collect(JSON.writeValueAsString(step()));
        }
        if (trainer.done() && !finished) {
            finish();
        }
    }

    private StepMetrics step() throws IOException {
        clock.rowsArrived();
        PendingRows.Step rows = pending.take(trainer.nextBatchSize());
        Trainer.StepResult r = trainer.step(rows.rows());
        double seconds = clock.stepEnded();
        StepMetrics m = StepMetrics.of(speedrun(), r, trainer.schedules().tokensBefore(r.step() + 1), seconds)
                .withStream(clock.dataWaitFraction(), rows.firstSeqId(), rows.lastSeqId(), rows.seqIdHash());
        int every = speedrun().train().evalEvery();
        List<int[]> val = every > 0 && (r.step() + 1) % every == 0 ? evalRows.get() : List.of();
        if (!val.isEmpty()) {
            lastEval = trainer.evaluate(val, 8);
            gauges.evaluated(lastEval);
            m = m.withEval(lastEval);
        }
        metrics.append(m);
        gauges.stepped(m);
        clock.skip();
        listener.stepDone(r.step() + 1, outDir());
        return m;
    }

    private void finish() throws IOException {
        finished = true;
        List<int[]> val = evalRows.get();
        if (!val.isEmpty()) {
            lastEval = trainer.evaluate(val, 8);
            gauges.evaluated(lastEval);
        }
        Checkpoint.save(trainer, outDir().resolve("checkpoint"));
        Results.of(job, trainer, lastEval, clock.trainedNanos() / 1e9).write(outDir());
        LOG.info("training done at step {}; results in {}", trainer.step(), Results.file(outDir()));
    }

    @Override
    public void close() throws Exception {
        if (trainer != null) {
            trainer.close();
        }
    }
}
