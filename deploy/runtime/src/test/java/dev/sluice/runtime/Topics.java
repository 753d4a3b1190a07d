package dev.sluice.runtime;

import dev.sluice.connectors.batch.ArrowBatchCodec;
import dev.sluice.connectors.batch.BatchMeta;
import dev.sluice.connectors.batch.TokenBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads a whole topic of committed Arrow batches, partition by partition, in offset order. */
final class Topics {

    private Topics() {}

    static Map<Integer, List<TokenBatch>> read(String bootstrap, String topic, BatchMeta expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("isolation.level", "read_committed");
        p.put("max.partition.fetch.bytes", Integer.toString(64 << 20));
        Map<Integer, List<TokenBatch>> out = new TreeMap<>();
        try (var consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             var codec = new ArrowBatchCodec()) {
            List<TopicPartition> parts = consumer.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            parts.forEach(tp -> out.put(tp.partition(), new ArrayList<>()));
            long deadline = System.currentTimeMillis() + 60_000;
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("timed out reading " + topic);
                }
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    out.get(r.partition()).add(codec.decode(r.value(), expected,
                            r.topic() + "/" + r.partition() + "@" + r.offset()));
                }
            }
        }
        return out;
    }
}
