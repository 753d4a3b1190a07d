package dev.sluice.trainer.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.connectors.batch.TokenBatch;
import dev.sluice.connectors.kafka.BatchTopicReader;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import dev.sluice.trainer.Checkpoint;
import dev.sluice.trainer.Flops;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.Trainer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
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
public final class TrainerFunction extends ProcessFunction<TokenBatch, String> implements CheckpointedFunction {

    private static final Logger LOG = LoggerFactory.getLogger(TrainerFunction.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainJobConfig job;
    private final Properties kafka;

    private transient Trainer trainer;
    private transient Tokenizer tokenizer;
    private transient ArrayDeque<long[]> pending; // [seq_id, tokens...]
    private transient ListState<byte[]> state;
    private transient List<int[]> evalRows;
    private transient long metricsLength;
    private transient long lastStepEnd;
    private transient long startNanos;
    private transient long trainedNanos;
    private transient double lastLoss = Double.NaN;
    private transient double lastLr;
    private transient double lastMomentum;
    private transient int lastBatch;
    private transient double lastTokensPerSecond;
    private transient double lastFlopsPerSecond;
    private transient double lastDataWait;
    private transient Trainer.EvalResult lastEval;
    private transient boolean finished;

    public TrainerFunction(TrainJobConfig job, Properties kafka) {
        this.job = job;
        this.kafka = kafka;
    }

    private SpeedrunConfig speedrun() {
        return job.speedrun();
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        tokenizer = Tokenizers.load(speedrun().train().tokenizer());
        trainer = new Trainer(speedrun(), tokenizer);
        pending = new ArrayDeque<>();
        state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("trainer", byte[].class));
        for (byte[] bytes : state.get()) {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            for (int n = in.readInt(); n > 0; n--) {
                long[] row = new long[in.readInt()];
                for (int i = 0; i < row.length; i++) {
                    row[i] = in.readLong();
                }
                pending.add(row);
            }
            metricsLength = in.readLong();
            trainedNanos = in.readLong();
            finished = in.readBoolean();
            truncateMetrics(metricsLength);
            Checkpoint.restore(trainer, Checkpoint.fromBytes(in.readAllBytes(), "Flink state"));
            LOG.info("trainer restored at step {} with {} rows pending", trainer.step(), pending.size());
            // A record of every restore, next to the metrics, so a run's history shows where it resumed.
            Files.createDirectories(Path.of(job.outDir()));
            Files.writeString(Path.of(job.outDir(), "restores.jsonl"), JSON.createObjectNode()
                    .put("restored_step", trainer.step()).put("pending_rows", pending.size()) + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        var bytes = new ByteArrayOutputStream(64 << 20);
        var out = new DataOutputStream(bytes);
        out.writeInt(pending.size());
        for (long[] row : pending) {
            out.writeInt(row.length);
            for (long v : row) {
                out.writeLong(v);
            }
        }
        out.writeLong(metricsLength);
        out.writeLong(trainedNanos);
        out.writeBoolean(finished);
        Checkpoint.write(trainer, out); // last, so it needs no length
        out.flush();
        state.update(List.of(bytes.toByteArray()));
        lastStepEnd = System.nanoTime(); // time spent checkpointing is not time spent waiting for data
    }

    @Override
    public void open(OpenContext context) throws Exception {
        Files.createDirectories(Path.of(job.outDir()));
        evalRows = List.of();
        loadEvalRows();
        MetricGroup m = getRuntimeContext().getMetricGroup().addGroup("sluice");
        m.gauge("step", (Gauge<Integer>) () -> trainer.step());
        m.gauge("loss", (Gauge<Double>) () -> lastLoss);
        m.gauge("lr", (Gauge<Double>) () -> lastLr);
        m.gauge("muonMomentum", (Gauge<Double>) () -> lastMomentum);
        m.gauge("batchSequences", (Gauge<Integer>) () -> lastBatch);
        m.gauge("tokensPerSecond", (Gauge<Double>) () -> lastTokensPerSecond);
        m.gauge("flopsPerSecond", (Gauge<Double>) () -> lastFlopsPerSecond);
        m.gauge("mfu", (Gauge<Double>) () -> mfu(lastFlopsPerSecond));
        m.gauge("dataWaitFraction", (Gauge<Double>) () -> lastDataWait);
        m.gauge("valBitsPerByte", (Gauge<Double>) () -> lastEval == null ? Double.NaN : lastEval.bitsPerByte());
        startNanos = System.nanoTime();
        lastStepEnd = startNanos;
    }

    @Override
    public void processElement(TokenBatch batch, Context ctx, Collector<String> out) throws Exception {
        int width = batch.meta().rowLength();
        for (int r = 0; r < batch.size(); r++) {
            long[] row = new long[width + 1];
            row[0] = batch.seqIds()[r];
            for (int i = 0; i < width; i++) {
                row[i + 1] = batch.tokens()[r * width + i];
            }
            pending.add(row);
        }
        while (!trainer.done() && pending.size() >= trainer.nextBatchSize()) {
            out.collect(step());
        }
        if (trainer.done() && !finished) {
            finish();
        }
    }

    private String step() throws IOException {
        long waitStart = lastStepEnd;
        long stepStart = System.nanoTime();
        int n = trainer.nextBatchSize();
        List<int[]> rows = new ArrayList<>(n);
        long seqHash = 1125899906842597L;
        long firstSeq = -1;
        long lastSeq = -1;
        for (int i = 0; i < n; i++) {
            long[] row = pending.poll();
            int[] tokens = new int[row.length - 1];
            for (int j = 0; j < tokens.length; j++) {
                tokens[j] = (int) row[j + 1];
            }
            rows.add(tokens);
            seqHash = 31 * seqHash + row[0];
            firstSeq = i == 0 ? row[0] : firstSeq;
            lastSeq = row[0];
        }
        Trainer.StepResult r = trainer.step(rows);
        long stepEnd = System.nanoTime();
        trainedNanos += stepEnd - waitStart;
        double total = (stepEnd - waitStart) / 1e9;
        lastLoss = r.loss();
        lastLr = speedrun().train().muonLr() * r.lrMultiplier();
        lastMomentum = r.muonMomentum();
        lastBatch = r.sequences();
        lastTokensPerSecond = r.tokens() / total;
        lastFlopsPerSecond = 3.0 * Flops.perToken(speedrun().model()) * r.tokens() / total;
        lastDataWait = (stepStart - waitStart) / 1e9 / total;
        ObjectNode line = JSON.createObjectNode()
                .put("step", r.step())
                .put("loss", r.loss())
                .put("lr", lastLr)
                .put("lr_multiplier", r.lrMultiplier())
                .put("muon_momentum", r.muonMomentum())
                .put("batch_sequences", r.sequences())
                .put("long_window", r.longWindow())
                .put("tokens", trainer.schedules().tokensBefore(r.step() + 1))
                .put("tokens_per_second", lastTokensPerSecond)
                .put("flops_per_second", lastFlopsPerSecond)
                .put("mfu", mfu(lastFlopsPerSecond))
                .put("data_wait_fraction", lastDataWait)
                .put("first_seq_id", firstSeq)
                .put("last_seq_id", lastSeq)
                .put("seq_id_hash", seqHash);
        int every = speedrun().train().evalEvery();
        if (every > 0 && (r.step() + 1) % every == 0) {
            loadEvalRows();
        }
        if (every > 0 && (r.step() + 1) % every == 0 && !evalRows.isEmpty()) {
            lastEval = trainer.evaluate(evalRows, 8);
            line.put("val_loss", lastEval.loss()).put("val_bpb", lastEval.bitsPerByte());
        }
        appendMetrics(line.toString());
        lastStepEnd = System.nanoTime();
        if (job.failOnceAtStep() > 0 && r.step() + 1 == job.failOnceAtStep()) {
            Path marker = Path.of(job.outDir(), ".injected-failure");
            if (!Files.exists(marker)) {
                Files.createFile(marker);
                throw new IllegalStateException("injected failure after step " + (r.step() + 1) + " (test)");
            }
        }
        return line.toString();
    }

    /**
     * The first eval_sequences rows of the validation topic. While the pipeline is still writing the topic may hold
     * fewer (or none: validation batches commit later than training ones); then this is tried again at each
     * evaluation until the set is complete, and from then on every evaluation scores the same rows.
     */
    private void loadEvalRows() {
        int wanted = speedrun().train().evalSequences();
        if (wanted == 0 || evalRows.size() >= wanted) {
            return;
        }
        try (BatchTopicReader reader = new BatchTopicReader(kafka)) {
            evalRows = reader.firstRows(job.valTopic(), job.contract().meta(speedrun().train().tokenizer()), wanted);
        }
        if (evalRows.size() < wanted) {
            LOG.info("{} validation rows of {} in {} so far", evalRows.size(), wanted, job.valTopic());
        }
    }

    private double mfu(double flopsPerSecond) {
        double peak = speedrun().train().peakFlops();
        return peak > 0 ? flopsPerSecond / peak : Double.NaN;
    }

    private void finish() throws IOException {
        finished = true;
        loadEvalRows();
        if (!evalRows.isEmpty()) {
            lastEval = trainer.evaluate(evalRows, 8);
        }
        Path out = Path.of(job.outDir());
        Checkpoint.save(trainer, out.resolve("checkpoint"));
        Files.writeString(out.resolve("results.json"), Results.json(job, trainer, lastEval, trainedNanos / 1e9)
                .toPrettyString());
        LOG.info("training done at step {}; results in {}", trainer.step(), out.resolve("results.json"));
    }

    private void appendMetrics(String line) throws IOException {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        Files.write(Path.of(job.outDir(), "metrics.jsonl"), bytes, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        metricsLength += bytes.length;
    }

    /** After a restore, the lines written after the checkpoint are dropped: they will be written again. */
    private void truncateMetrics(long length) throws IOException {
        Path f = Path.of(job.outDir(), "metrics.jsonl");
        if (Files.exists(f)) {
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(Math.min(length, raf.length()));
            }
        }
    }

    @Override
    public void close() throws Exception {
        if (trainer != null) {
            trainer.close();
        }
    }
}
