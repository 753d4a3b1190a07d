package dev.sluice.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.DataContract;
import dev.sluice.pipeline.TokenizeJob;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Runs a TokenizeJob on some {@link Infrastructure} and sums up a bounded run in one JSON object. */
public final class PipelineRunner {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final TokenizeJob job;
    private final Infrastructure infra;
    private boolean overwrite;
    private int restartAttempts;
    private String savepoint;

    private PipelineRunner(TokenizeJob job, Infrastructure infra) {
        this.job = job;
        this.infra = infra;
    }

    /** A submission of the job to the infrastructure: topics kept, no restarts, a fresh start, unless set below. */
    public static PipelineRunner of(TokenizeJob job, Infrastructure infra) {
        return new PipelineRunner(job, infra);
    }

    /** Deletes and recreates the job's topics first, so a rerun does not append to an earlier run's batches. */
    public PipelineRunner overwrite(boolean overwrite) {
        this.overwrite = overwrite;
        return this;
    }

    /** How often Flink restarts the job from its last checkpoint after a failure before giving up. */
    public PipelineRunner restartAttempts(int restartAttempts) {
        if (restartAttempts < 0) {
            throw new IllegalArgumentException("restart attempts must be >= 0, got " + restartAttempts);
        }
        this.restartAttempts = restartAttempts;
        return this;
    }

    /**
     * Resumes from a savepoint (at any parallelism); the topics, which hold what was written before it, are kept as
     * they are.
     */
    public PipelineRunner fromSavepoint(String savepoint) {
        this.savepoint = savepoint;
        return this;
    }

    /** Prepares the topics and submits the job; returns once it is submitted. */
    public Run start() throws Exception {
        Properties kafka = infra.kafkaClient();
        if (savepoint == null) {
            job.prepareTopics(kafka, overwrite);
        } else {
            job.prepareTopicsForRestore(kafka);
        }
        StreamExecutionEnvironment env = infra.environment(restartAttempts, savepoint);
        job.build(env, kafka);
        JobClient client = env.executeAsync(job.name());
        return new Run(job, client);
    }

    /** A submitted TokenizeJob. */
    public record Run(TokenizeJob job, JobClient client) {

        /** Waits for a bounded run to end and sums it up. */
        public ObjectNode awaitSummary() throws Exception {
            JobExecutionResult result = client.getJobExecutionResult().get();
            double seconds = result.getNetRuntime(java.util.concurrent.TimeUnit.MILLISECONDS) / 1e3;
            return summary(job.data(), job.schedule().splits().size(), result.getAllAccumulatorResults(), seconds);
        }
    }

    static ObjectNode summary(DataContract contract, int splits, Map<String, Object> acc, double seconds) {
        ObjectNode s = JSON.createObjectNode();
        s.put("job", "tokenize");
        s.put("dataset", contract.dataset());
        s.put("tokenizer", String.join(",", contract.tokenizers()));
        s.put("seq_len", contract.seqLen());
        s.put("seconds", Math.round(seconds * 100) / 100.0);
        long docTokens = 0;
        long dropped = 0;
        for (String t : contract.tokenizers()) {
            docTokens += count(acc, contract.trainTopic(t) + ".doc_tokens")
                    + count(acc, contract.valTopic(t) + ".doc_tokens");
            dropped += count(acc, contract.topicPrefix(t) + ".dropped_tokens");
        }
        s.put("tokens_per_second", Math.round(docTokens / Math.max(seconds, 1e-9)));
        // Rejections happen before tokenizing: every tokenizer's branch counts the same records.
        String first = contract.topicPrefix(contract.tokenizer());
        s.put("rejected_records", count(acc, first + ".rejected"));
        s.put("invalid_utf8_records", count(acc, first + ".invalid_utf8"));
        s.put("unreadable_shards", count(acc, first + ".unreadable_shards"));
        var paths = s.putArray("unreadable_shard_paths");
        if (acc.get(first + ".unreadable_shard_paths") instanceof java.util.List<?> list) {
            list.stream().map(String::valueOf).distinct().sorted().forEach(paths::add);
        }
        s.put("dropped_tokens", dropped);
        s.put("splits", splits); // planned at submission (a watching run adds more as shards appear)
        ObjectNode topics = s.putObject("topics");
        for (String topic : contract.topics()) {
            ObjectNode n = topics.putObject(topic);
            long sequences = count(acc, topic + ".sequences");
            n.put("documents", count(acc, topic + ".documents"));
            n.put("sequences", sequences);
            n.put("tokens", sequences * contract.seqLen());
            n.put("batches", count(acc, topic + ".batches"));
            // what the sampler held at most: sequences waiting for their turn, and its checkpointed state
            n.put("sampler_peak_waiting_bytes", count(acc, topic + ".sampler_peak_waiting_bytes"));
            n.put("sampler_peak_state_bytes", count(acc, topic + ".sampler_peak_state_bytes"));
        }
        return s;
    }

    private static long count(Map<String, Object> acc, String name) {
        Object v = acc.get(name);
        return v instanceof Number n ? n.longValue() : 0;
    }
}
