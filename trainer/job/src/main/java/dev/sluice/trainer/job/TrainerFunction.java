package dev.sluice.trainer.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.collective.GlooGroup;
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
import java.util.ArrayList;
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
 * The trainer as a Flink operator: subtask r is rank r of a Gloo group of the operator's parallelism (one rank:
 * no group). Each rank gets its equal shard of every step from the {@link StepDealer} and trains it synchronously;
 * gradients, losses and evaluation sums meet in the group. Rank 0 speaks for the job: it writes the metrics, the
 * model and optimizer state at each checkpoint, the final checkpoint and the results. Its operator state (the
 * metrics log's length, the clock, a reference to the state file) is union state, so a restore on any number of
 * ranks gives every rank the file to load, after which rank 0's weights are broadcast and checked.
 */
public final class TrainerFunction extends ProcessFunction<StepShard, String>
        implements CheckpointedFunction, CheckpointListener {

    private static final Logger LOG = LoggerFactory.getLogger(TrainerFunction.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainJobConfig job;
    private final Properties kafka;
    private final StateFiles.Location stateFilesAt;
    private final RankRendezvous rendezvous;
    private final StepListener listener;

    private transient int rank;
    private transient GlooGroup group;
    private transient Trainer trainer;
    private transient MetricsLog metrics; // rank 0's only
    private transient StepClock clock;
    private transient EvalRows evalRows;
    private transient TrainerGauges gauges;
    private transient Trainer.EvalResult lastEval;
    private transient boolean finished;
    private transient ListState<byte[]> state;
    private transient StateFiles stateFiles;
    private transient Map<Long, String> snapshotLines;

    /**
     * @param stateFilesAt where model and optimizer state go at each checkpoint
     * @param rendezvous where ranks meet (unused with one rank)
     */
    TrainerFunction(TrainJobConfig job, Properties kafka, StateFiles.Location stateFilesAt, RankRendezvous rendezvous,
                    StepListener listener) {
        this.job = job;
        this.kafka = kafka;
        this.stateFilesAt = stateFilesAt;
        this.rendezvous = rendezvous;
        this.listener = listener;
    }

    private SpeedrunConfig speedrun() {
        return job.speedrun();
    }

    private Path outDir() {
        return Path.of(job.outDir());
    }

    private boolean speaksForTheJob() {
        return rank == 0;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        var task = getRuntimeContext().getTaskInfo();
        rank = task.getIndexOfThisSubtask();
        int ranks = task.getNumberOfParallelSubtasks();
        group = ranks > 1 ? Trainer.joinRanks(rendezvous.of(rank, ranks, task.getAttemptNumber())) : null;
        trainer = new Trainer(speedrun(), speedrun().tokenizer().load(), group);
        clock = new StepClock();
        metrics = null;
        stateFiles = new StateFiles(stateFilesAt);
        snapshotLines = new HashMap<>();
        state = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("trainer-rank0", byte[].class));
        List<byte[]> saved = new ArrayList<>();
        state.get().forEach(saved::add);
        if (saved.size() > 1) {
            throw new IllegalStateException("the checkpoint holds " + saved.size() + " trainer states; rank 0 writes one");
        }
        if (!saved.isEmpty()) {
            restore(new DataInputStream(new ByteArrayInputStream(saved.get(0))));
        } else if (speaksForTheJob()) {
            metrics = MetricsLog.startNew(outDir()); // a fresh run, not a restore
        }
    }

    private void restore(DataInputStream in) throws IOException {
        long metricsLength = in.readLong();
        clock.restore(in.readLong());
        finished = in.readBoolean();
        StateFiles.Ref ref = new StateFiles.Ref(in.readUTF(), in.readLong(), in.readLong());
        StateFiles.restore(trainer, ref); // every rank reads the file: no 3 GB broadcast through one socket
        trainer.syncRanks(); // and then checks they hold the same weights
        if (!speaksForTheJob()) {
            return;
        }
        metrics = new MetricsLog(outDir(), metricsLength);
        metrics.truncate(); // the lines after the checkpoint will be written again
        stateFiles.restored(ref);
        LOG.info("trainer restored at step {} on {} rank(s)", trainer.step(), trainer.ranks());
        // A record of every restore, next to the metrics, so a run's history shows where it resumed.
        Files.writeString(outDir().resolve("restores.jsonl"), JSON.createObjectNode()
                .put("restored_step", trainer.step()).put("ranks", trainer.ranks()) + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** The operator state is small (counters and a reference); the model goes to a file, written by rank 0 only. */
    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        if (!speaksForTheJob()) {
            state.update(List.of());
            return;
        }
        StateFiles.Ref ref = stateFiles.write(context.getCheckpointId(), trainer);
        var bytes = new ByteArrayOutputStream(256);
        var out = new DataOutputStream(bytes);
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
        if (!speaksForTheJob()) {
            return;
        }
        stateFiles.completed(checkpointId);
        String line = snapshotLines.remove(checkpointId);
        if (line != null) { // a record of what Flink holds, as restores.jsonl records what came back
            Files.writeString(outDir().resolve("checkpoints.jsonl"), line, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
    }

    @Override
    public void notifyCheckpointAborted(long checkpointId) {
        if (speaksForTheJob()) {
            stateFiles.aborted(checkpointId);
            snapshotLines.remove(checkpointId);
        }
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
    public void processElement(StepShard shard, Context ctx, Collector<String> out) throws Exception {
        if (finished) {
            return;
        }
        if (shard.step() != trainer.step()) { // the dealer's state and ours come from the same checkpoint
            throw new IllegalStateException("rank " + rank + " at step " + trainer.step() + " was dealt step "
                    + shard.step());
        }
        StepMetrics m = step(shard);
        if (speaksForTheJob()) {
            out.collect(JSON.writeValueAsString(m));
        }
        if (trainer.done()) {
            finish();
        }
    }

    private StepMetrics step(StepShard shard) throws IOException {
        clock.rowsArrived();
        Trainer.StepResult r = trainer.step(shard.rowList());
        double seconds = clock.stepEnded();
        StepMetrics m = StepMetrics.of(speedrun(), r, trainer.schedules().tokensBefore(r.step() + 1), seconds)
                .withStream(clock.dataWaitFraction(), shard.firstSeqId(), shard.lastSeqId(), shard.seqIdHash());
        int every = speedrun().train().evalEvery();
        List<int[]> val = every > 0 && (r.step() + 1) % every == 0 ? evalRows.get() : List.of();
        if (!val.isEmpty()) {
            lastEval = trainer.evaluate(val, 8); // every rank its share: a collective
            gauges.evaluated(lastEval);
            m = m.withEval(lastEval);
        }
        if (speaksForTheJob()) {
            metrics.append(m);
        }
        gauges.stepped(m);
        clock.skip();
        listener.stepDone(rank, r.step() + 1, outDir());
        return m;
    }

    private void finish() throws IOException {
        finished = true;
        List<int[]> val = evalRows.get();
        if (!val.isEmpty()) {
            lastEval = trainer.evaluate(val, 8);
            gauges.evaluated(lastEval);
        }
        if (speaksForTheJob()) {
            Checkpoint.save(trainer, outDir().resolve("checkpoint"));
            Results.of(job, trainer, lastEval, clock.trainedNanos() / 1e9).write(outDir());
            LOG.info("training done at step {} on {} rank(s); results in {}", trainer.step(), trainer.ranks(),
                    Results.file(outDir()));
        }
    }

    @Override
    public void close() throws Exception {
        if (trainer != null) {
            trainer.close();
        }
        if (group != null) {
            group.close(); // a rank still waiting on this one gets an error now, not at its timeout
        }
    }
}
