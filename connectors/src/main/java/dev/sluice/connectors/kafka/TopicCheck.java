package dev.sluice.connectors.kafka;

import dev.sluice.connectors.batch.ArrowBatchCodec;
import dev.sluice.connectors.batch.BatchMeta;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reading a batch topic outside a Flink job: a pre-flight check of its metadata, and its first rows. */
public final class TopicCheck {

    private TopicCheck() {}

    /**
     * Fails, before any job starts, unless {@code topic} exists, holds committed batches, and its first batch was
     * written for {@code expected} (tokenizer, vocabulary, seq_len, format).
     */
    public static void requireMeta(Properties client, String topic, BatchMeta expected) {
        try (var consumer = consumer(client); var codec = new ArrowBatchCodec()) {
            var infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("topic " + topic + " does not exist; run `bin/sluice pipeline` first");
            }
            TopicPartition p0 = new TopicPartition(topic, 0);
            consumer.assign(List.of(p0));
            consumer.seekToBeginning(List.of(p0));
            long deadline = System.currentTimeMillis() + 30_000;
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    String where = "topic " + topic + " (first batch, partition 0 offset " + r.offset() + ")";
                    expected.requireMatches(codec.peekMeta(r.value(), where), where);
                    return;
                }
            }
            throw new IllegalStateException("topic " + topic + " holds no committed batches");
        }
    }

    /**
     * The first {@code rows} rows of a topic, partition 0 first, for evaluation; fewer if the topic holds fewer.
     */
    public static List<int[]> firstRows(Properties client, String topic, BatchMeta expected, int rows) {
        List<int[]> out = new ArrayList<>();
        try (var consumer = consumer(client); var codec = new ArrowBatchCodec()) {
            var infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null) {
                return out;
            }
            for (var info : infos.stream().sorted((a, b) -> Integer.compare(a.partition(), b.partition())).toList()) {
                TopicPartition tp = new TopicPartition(topic, info.partition());
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                long end = consumer.endOffsets(List.of(tp)).get(tp);
                while (consumer.position(tp) < end && out.size() < rows) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        var batch = codec.decode(r.value(), expected, topic + "/" + r.partition() + "@" + r.offset());
                        for (int i = 0; i < batch.size() && out.size() < rows; i++) {
                            out.add(batch.row(i));
                        }
                    }
                }
                if (out.size() >= rows) {
                    break;
                }
            }
        }
        return out;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(Properties client) {
        Properties p = new Properties();
        p.putAll(client);
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        p.put("max.partition.fetch.bytes", Integer.toString(64 << 20));
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
