package dev.sluice.connectors.kafka;

import dev.sluice.connectors.batch.ArrowBatchCodec;
import dev.sluice.connectors.batch.BatchMeta;
import dev.sluice.connectors.batch.TokenBatch;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads Arrow token batches from Kafka for a KafkaSource, refusing (by failing the job with a message naming
 * topic, partition, offset and each differing field) any batch not written for the expected tokenizer and seq_len.
 */
public final class TokenBatchDeserializer implements KafkaRecordDeserializationSchema<TokenBatch> {

    private final BatchMeta expected;
    private transient ArrowBatchCodec codec;

    public TokenBatchDeserializer(BatchMeta expected) {
        this.expected = expected;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        codec = new ArrowBatchCodec();
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<TokenBatch> out) {
        if (codec == null) {
            codec = new ArrowBatchCodec();
        }
        String where = "batch at " + record.topic() + "/" + record.partition() + "@" + record.offset();
        out.collect(codec.decode(record.value(), expected, where));
    }

    @Override
    public TypeInformation<TokenBatch> getProducedType() {
        return TypeInformation.of(TokenBatch.class);
    }
}
