package dev.sluice.connectors.kafka;

import dev.sluice.contract.batch.ArrowBatchCodec;
import dev.sluice.contract.batch.BadBatchException;
import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one reader of batch topics outside a Flink job (pre-flight checks, evaluation rows, tests): committed
 * records only, partition by partition in offset order, up to each partition's end as of the read's start.
 */
public final class BatchTopicReader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchTopicReader.class);

    private static final Duration METADATA_WAIT = Duration.ofSeconds(30);

    /** Sees one record; returns false to stop reading. */
    @FunctionalInterface
    public interface RecordVisitor {
        boolean visit(int partition, long offset, byte[] value);
    }

    /** Sees one decoded batch; returns false to stop reading. */
    @FunctionalInterface
    public interface BatchVisitor {
        boolean visit(int partition, TokenBatch batch);
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final ArrowBatchCodec codec = new ArrowBatchCodec();

    /** {@code client}: bootstrap servers and whatever else every client needs (security, SASL, TLS). */
    public BatchTopicReader(Properties client) {
        Properties p = new Properties();
        p.putAll(client);
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        p.put("max.partition.fetch.bytes", Integer.toString(64 << 20));
        this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Fails, before any job starts, unless {@code topic} exists, holds committed batches, and its first batch was
     * written for {@code expected} (tokenizer, vocabulary, seq_len, format). Records before it that are not Arrow
     * batches at all are skipped, as the job skips them.
     */
    public static void requireMeta(Properties client, String topic, BatchMeta expected) {
        try (BatchTopicReader reader = new BatchTopicReader(client)) {
            if (!reader.exists(topic)) {
                throw new IllegalStateException("topic " + topic + " does not exist; run `bin/sluice pipeline` first");
            }
            // A writer's first transaction may still be open: wait a while for its first committed batch.
            boolean[] seen = {false};
            long deadline = System.nanoTime() + METADATA_WAIT.toNanos();
            while (!seen[0]) {
                reader.forEachRecord(topic, (partition, offset, value) -> {
                    String where = "topic " + topic + " (first batch, partition " + partition + " offset " + offset
                            + ")";
                    BatchMeta meta;
                    try {
                        meta = reader.codec.peekMeta(value, where);
                    } catch (BadBatchException e) { // not a batch at all: the job will set it aside, look further
                        LOG.warn("skipping a bad record: {}", e.getMessage());
                        return true;
                    }
                    expected.requireMatches(meta, where);
                    seen[0] = true;
                    return false;
                });
                if (!seen[0] && System.nanoTime() > deadline) {
                    throw new IllegalStateException("topic " + topic + " holds no committed batches");
                }
                if (!seen[0]) {
                    sleep(Duration.ofMillis(250));
                }
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a committed batch", e);
        }
    }

    public boolean exists(String topic) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, METADATA_WAIT);
        return infos != null && !infos.isEmpty();
    }

    /** Every committed record of {@code topic} (none if it does not exist), until the visitor says stop. */
    public void forEachRecord(String topic, RecordVisitor visitor) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, METADATA_WAIT);
        if (infos == null) {
            return;
        }
        for (PartitionInfo info : infos.stream().sorted(Comparator.comparingInt(PartitionInfo::partition)).toList()) {
            TopicPartition tp = new TopicPartition(topic, info.partition());
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end && !visitor.visit(r.partition(), r.offset(), r.value())) {
                        return;
                    }
                }
            }
        }
    }

    /** Every committed batch of {@code topic}, decoded and checked against {@code expected}. */
    public void forEachBatch(String topic, BatchMeta expected, BatchVisitor visitor) {
        forEachRecord(topic, (partition, offset, value) ->
                visitor.visit(partition, codec.decode(value, expected, topic + "/" + partition + "@" + offset)));
    }

    /** The whole topic, by partition (every partition, empty ones too). */
    public Map<Integer, List<TokenBatch>> readAll(String topic, BatchMeta expected) {
        Map<Integer, List<TokenBatch>> out = new TreeMap<>();
        List<PartitionInfo> infos = consumer.partitionsFor(topic, METADATA_WAIT);
        if (infos != null) {
            infos.forEach(info -> out.put(info.partition(), new ArrayList<>()));
        }
        forEachBatch(topic, expected, (partition, batch) -> out.get(partition).add(batch));
        return out;
    }

    /**
     * The first {@code rows} rows, partition 0 first (for evaluation); fewer if the topic holds fewer. A record
     * that is not a good batch is logged and skipped, as the trainer's source skips one.
     */
    public List<int[]> firstRows(String topic, BatchMeta expected, int rows) {
        List<int[]> out = new ArrayList<>();
        forEachRecord(topic, (partition, offset, value) -> {
            TokenBatch batch;
            try {
                batch = codec.decode(value, expected, topic + "/" + partition + "@" + offset);
            } catch (BadBatchException e) {
                LOG.warn("skipping a bad record: {}", e.getMessage());
                return true;
            }
            for (int i = 0; i < batch.size() && out.size() < rows; i++) {
                out.add(batch.row(i));
            }
            return out.size() < rows;
        });
        return out;
    }

    @Override
    public void close() {
        codec.close();
        consumer.close();
    }
}
