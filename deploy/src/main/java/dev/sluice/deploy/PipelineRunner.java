package dev.sluice.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.connectors.kafka.KafkaTopics;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Runs a TokenizeJob on some {@link Infrastructure} and sums up a bounded run in one JSON object. */
public final class PipelineRunner {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PipelineRunner() {}

    /** Prepares the topics and submits the job; returns once a bounded job finishes (the summary) or is running. */
    public static Run start(TokenizeJob job, Infrastructure infra, boolean overwrite, int restartAttempts)
            throws Exception {
        PipelineConfig config = job.config();
        Properties kafka = infra.kafkaClient();
        short replication = (short) Math.min(3, Integer.parseInt(
                config.kafka().properties().getOrDefault("replication.factor", "1")));
        KafkaTopics.prepare(kafka, job.topics(), config.partitions(), replication, overwrite);
        StreamExecutionEnvironment env = infra.environment(restartAttempts);
        job.build(env, kafka);
        long start = System.nanoTime();
        JobClient client = env.executeAsync("sluice tokenize " + config.dataset() + " (" + config.tokenizer() + ")");
        return new Run(job, client, start);
    }

    /** A submitted TokenizeJob. */
    public record Run(TokenizeJob job, JobClient client, long startNanos) {

        /** Waits for a bounded run to end and sums it up. */
        public ObjectNode awaitSummary() throws Exception {
            JobExecutionResult result = client.getJobExecutionResult().get();
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            return summary(job.config(), result.getAllAccumulatorResults(), seconds);
        }
    }

    static ObjectNode summary(PipelineConfig config, Map<String, Object> acc, double seconds) {
        ObjectNode s = JSON.createObjectNode();
        s.put("job", "tokenize");
        s.put("dataset", config.dataset());
        s.put("tokenizer", config.tokenizer());
        s.put("seq_len", config.seqLen());
        s.put("seconds", Math.round(seconds * 100) / 100.0);
        long docTokens = count(acc, "train.doc_tokens") + count(acc, "val.doc_tokens");
        s.put("tokens_per_second", Math.round(docTokens / Math.max(seconds, 1e-9)));
        s.put("rejected_records", count(acc, "rejected"));
        s.put("invalid_utf8_records", count(acc, "invalid_utf8"));
        s.put("dropped_tokens", count(acc, "dropped_tokens"));
        ObjectNode topics = s.putObject("topics");
        for (String split : new String[] {"train", "val"}) {
            ObjectNode t = topics.putObject(config.topic(split));
            long sequences = count(acc, split + ".sequences");
            t.put("documents", count(acc, split + ".documents"));
            t.put("sequences", sequences);
            t.put("tokens", sequences * config.seqLen());
            t.put("batches", count(acc, split + ".batches"));
        }
        return s;
    }

    private static long count(Map<String, Object> acc, String name) {
        Object v = acc.get(name);
        return v instanceof Number n ? n.longValue() : 0;
    }
}
