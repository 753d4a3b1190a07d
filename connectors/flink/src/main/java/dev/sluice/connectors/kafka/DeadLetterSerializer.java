package dev.sluice.connectors.kafka;

import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes a bad record to its topic's dead-letter topic ({@code <topic>.dlq}) as it was read, key and value
 * unchanged, with headers saying where it came from and why it was refused: {@code sluice.source}
 * (topic/partition@offset) and {@code sluice.error}.
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<BatchRecord.Bad> {

    public static final String SOURCE_HEADER = "sluice.source";
    public static final String ERROR_HEADER = "sluice.error";

    public static String topicOf(String topic) {
        return BatchRecord.deadLetterTopic(topic);
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(BatchRecord.Bad bad, KafkaSinkContext context, Long timestamp) {
        var record = new ProducerRecord<>(topicOf(bad.topic()), bad.key(), bad.value());
        record.headers().add(SOURCE_HEADER, bad.where().getBytes(StandardCharsets.UTF_8));
        record.headers().add(ERROR_HEADER, bad.reason().getBytes(StandardCharsets.UTF_8));
        return record;
    }
}
