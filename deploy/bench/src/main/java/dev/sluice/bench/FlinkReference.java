package dev.sluice.bench;

import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.pipeline.TokenizedRecord;
import dev.sluice.runtime.Infrastructure;
import java.util.Properties;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/**
 * "Read + tokenize + produce" as the smallest Flink job can do it: the TokenizeJob's own reader and tokenizer
 * (same source, splits, checkpoint interval, parallelism), chained in each reader's task to a batcher and an
 * at-least-once Kafka sink; no packing, sampling, Arrow, exchange or transaction. What it loses against the same
 * work without Flink ({@link ReferenceRates}) is what Flink's runtime costs by itself on this machine, so no
 * TokenizeJob, which does all of this and more, can be faster.
 */
final class FlinkReference {

    static final String TOPIC = "sluice.bench.flink-reference";

    private FlinkReference() {}

    /** Runs the reference over {@code job}'s corpus: its document tokens and the job's net runtime. */
    static ReferenceRates.Rate run(TokenizeJob job, Infrastructure infra) throws Exception {
        Properties kafka = infra.kafkaClient();
        ReferenceRates.ensureTopic(kafka, TOPIC);
        StreamExecutionEnvironment env = infra.environment(0);
        String tokenizer = job.data().tokenizer();
        int idBytes = job.data().meta(tokenizer).idBytes();
        var tokenized = job.readAndTokenize(env);
        tokenized.flatMap(new Batches(idBytes)).returns(byte[].class).setParallelism(tokenized.getParallelism())
                .name("batch")
                .sinkTo(KafkaSink.<byte[]>builder()
                        .setBootstrapServers(kafka.getProperty("bootstrap.servers"))
                        .setKafkaProducerConfig(ReferenceRates.producerProperties(kafka))
                        .setRecordSerializer(KafkaRecordSerializationSchema.builder().setTopic(TOPIC)
                                .setValueSerializationSchema(new AsIs()).build())
                        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                        .build())
                .setParallelism(tokenized.getParallelism()).name("kafka: " + TOPIC);
        JobExecutionResult result = env.execute("flink reference: read + tokenize + produce");
        String prefix = job.data().topicPrefix(tokenizer) + ".";
        long tokens = result.<Long>getAccumulatorResult(prefix + "train.doc_tokens")
                + result.<Long>getAccumulatorResult(prefix + "val.doc_tokens");
        return new ReferenceRates.Rate(tokens, result.getNetRuntime() / 1000.0);
    }

    /** The ids into batches of {@link ReferenceRates#BATCH_TOKENS}, as wide as the job's batch format writes them. */
    private static final class Batches implements FlatMapFunction<TokenizedRecord, byte[]> {
        private final int idBytes;
        private transient ReferenceRates.Batcher batcher;
        private transient Collector<byte[]> out;

        Batches(int idBytes) {
            this.idBytes = idBytes;
        }

        @Override
        public void flatMap(TokenizedRecord r, Collector<byte[]> out) {
            if (r.ids() == null) {
                return; // a split's end
            }
            this.out = out;
            if (batcher == null) {
                batcher = new ReferenceRates.Batcher(b -> this.out.collect(b), idBytes);
            }
            batcher.add(r.ids());
        }
    }

    private static final class AsIs implements SerializationSchema<byte[]> {
        @Override
        public byte[] serialize(byte[] bytes) {
            return bytes;
        }
    }
}
