package dev.sluice.connectors.kafka;

import dev.sluice.contract.batch.ArrowBatchCodec;
import dev.sluice.contract.batch.BadBatchException;
import dev.sluice.contract.batch.BatchMeta;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads Arrow token batches from Kafka for a KafkaSource. A record that is not a batch written for the expected
 * tokenizer and seq_len (see {@link ArrowBatchCodec#decode}) is passed on as {@link BatchRecord.Bad}, naming
 * topic, partition, offset and what is wrong, so that the job can set it aside and read on: failing here would
 * fail the job on the same offset after every restart.
 */
public final class TokenBatchDeserializer implements KafkaRecordDeserializationSchema<BatchRecord> {

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
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<BatchRecord> out) {
        if (codec == null) {
            codec = new ArrowBatchCodec();
        }
        String where = record.topic() + "/" + record.partition() + "@" + record.offset();
        try {
            out.collect(new BatchRecord.Good(codec.decode(record.value() == null ? new byte[0] : record.value(),
                    expected, where)));
        } catch (BadBatchException e) {
            out.collect(new BatchRecord.Bad(record.topic(), record.partition(), record.offset(), record.key(),
                    record.value(), e.getMessage()));
        }
    }

    @Override
    public TypeInformation<BatchRecord> getProducedType() {
        return TypeInformation.of(BatchRecord.class);
    }
}
