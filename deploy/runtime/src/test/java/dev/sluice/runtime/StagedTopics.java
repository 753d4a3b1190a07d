package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.connectors.kafka.BatchTopicReader;
import dev.sluice.connectors.kafka.KafkaTopics;
import dev.sluice.trainer.job.TrainJobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Topics that hold only a run's first records at first. An unbounded TrainJob on them trains those steps, and its
 * checkpoint barriers reach the trainer while it waits for more; the rest is copied in when the test says. With
 * ranks, this is how a test gets a checkpoint mid-run: a topic already whole is dealt into the network buffers
 * ahead of the first barrier (docs/ranks.md).
 */
final class StagedTopics {

    private StagedTopics() {}

    /**
     * Creates {@code staged}'s topics: its val topic a copy of {@code original}'s, its train topic the first
     * {@code records} records of {@code original}'s (one partition each, as the original's).
     */
    static void stage(Properties kafka, TrainJobConfig original, TrainJobConfig staged, int records) throws Exception {
        short replication = KafkaTopics.defaultReplication(kafka);
        KafkaTopics.prepare(kafka, List.of(new NewTopic(staged.trainTopic(), 1, replication),
                new NewTopic(staged.valTopic(), 1, replication)), false);
        copyRecords(kafka, original.valTopic(), staged.valTopic(), 0, Integer.MAX_VALUE);
        copyRecords(kafka, original.trainTopic(), staged.trainTopic(), 0, records);
    }

    /** Copies records [{@code first}, {@code first + count}) of the one-partition topic {@code from} to {@code to}. */
    static void copyRecords(Properties kafka, String from, String to, int first, int count) throws Exception {
        Properties producerConfig = new Properties();
        producerConfig.putAll(kafka);
        producerConfig.put("max.request.size", Integer.toString(64 << 20));
        int[] index = {0};
        try (var reader = new BatchTopicReader(kafka);
             var producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer())) {
            reader.forEachRecord(from, (partition, offset, value) -> {
                int i = index[0]++;
                if (i >= first && i - first < count) {
                    try {
                        producer.send(new ProducerRecord<>(to, 0, null, value)).get();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
                return true;
            });
        }
    }

    /** Waits until rank 0 has recorded a completed checkpoint taken after {@code step} steps. */
    static void awaitCheckpointAfterStep(Path dir, int step) throws Exception {
        Path log = dir.resolve("checkpoints.jsonl");
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!Files.exists(log) || Files.readString(log).lines().noneMatch(l -> l.contains("\"step\":" + step + ","))) {
            assertTrue(System.nanoTime() < deadline, "no checkpoint after step " + step + " within 3 minutes");
            Thread.sleep(100);
        }
    }
}
