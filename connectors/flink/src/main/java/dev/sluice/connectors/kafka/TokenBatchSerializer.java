package dev.sluice.connectors.kafka;

import dev.sluice.contract.batch.ArrowBatchCodec;
import dev.sluice.contract.batch.TokenBatch;
import java.nio.ByteBuffer;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes each {@link TokenBatch} as one Kafka record: the value is the Arrow IPC stream, the key the first
 * seq_id. Sink subtask i writes partition i (mod the partition count), so the order within a partition is the
 * order one deterministic upstream subtask produced.
 */
public final class TokenBatchSerializer implements KafkaRecordSerializationSchema<TokenBatch> {

    private final String topic;
    private transient ArrowBatchCodec codec;

    public TokenBatchSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        codec = new ArrowBatchCodec();
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(TokenBatch batch, KafkaSinkContext context, Long timestamp) {
        if (codec == null) {
            codec = new ArrowBatchCodec();
        }
        int[] partitions = context.getPartitionsForTopic(topic);
        int partition = partitions[context.getParallelInstanceId() % partitions.length];
        byte[] key = ByteBuffer.allocate(Long.BYTES).putLong(batch.size() == 0 ? -1 : batch.seqIds()[0]).array();
        return new ProducerRecord<>(topic, partition, null, key, codec.encode(batch));
    }
}
