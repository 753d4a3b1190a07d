package dev.sluice.bench;

import dev.sluice.connectors.corpus.CorpusFormat;
import dev.sluice.connectors.corpus.ShardSchedule;
import dev.sluice.connectors.corpus.CorpusRecord;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.contract.batch.BatchMeta;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.LongPredicate;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.RecordAndPosition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What the pipeline bench holds the TokenizeJob against, each measured with the job's number of threads and no
 * Flink: the bare tokenizer on texts in memory; the shards read by the connectors' {@link CorpusFormat} (the code the
 * job's readers run: decompression, line splitting, JSON) and tokenized in the same thread; and that again with the
 * ids sent to Kafka. The last two bound any pipeline that reads these shards (into Kafka) from above, so they show
 * how much of the gap between the job and the bare tokenizer no job design closes.
 */
final class ReferenceRates {

    static final int BATCH_TOKENS = 64 * 1025; // the bench job's batch: 64 windows of seq_len + 1
    static final String TOPIC = "sluice.bench.reference";

    /** Tokens handled in a measured span. */
    record Rate(long tokens, double seconds) {
        double perSecond() {
            return tokens / seconds;
        }
    }

    /** One thread's share: handles tokens until the clock says stop, returns how many. */
    private interface Worker {
        long run(LongPredicate beforeDeadline) throws Exception;
    }

    private ReferenceRates() {}

    /** Tokens of {@code threads} threads encoding the texts between them, in whole passes for ≥ {@code seconds}. */
    static Rate tokenize(Tokenizer tok, List<String> texts, int threads, double seconds) throws Exception {
        long tokens = 0;
        long start = System.nanoTime();
        long deadline = start + (long) (seconds * 1e9);
        do {
            AtomicInteger next = new AtomicInteger();
            tokens += measure(threads, Long.MAX_VALUE, clock -> {
                long n = 0;
                for (int i; (i = next.getAndIncrement()) < texts.size(); ) {
                    n += tok.encode(texts.get(i)).length;
                }
                return n;
            }).tokens();
        } while (System.nanoTime() < deadline);
        return new Rate(tokens, (System.nanoTime() - start) / 1e9);
    }

    /** Tokens read from the shards (over and over) and tokenized by {@code threads} threads in ~{@code seconds}. */
    static Rate readAndTokenize(Tokenizer tok, List<Path> shards, int threads, double seconds) throws Exception {
        AtomicInteger next = new AtomicInteger();
        return measure(threads, deadline(seconds), clock -> readShards(tok, shards, next, clock, ids -> {}));
    }

    /**
     * As {@link #readAndTokenize}, with the ids sent in batches to topic {@link #TOPIC} of the brokers at
     * {@code kafka} by a plain producer (acks=all; no transactions, no Arrow: less than the job must do), each id in
     * as many bytes as the job's batch format gives it (2 for vocabularies that fit 16 bits, else 4). The span
     * ends when the brokers have acknowledged every full batch; a thread's last partial batch is counted, not sent.
     */
    static Rate readTokenizeAndProduce(Tokenizer tok, List<Path> shards, int threads, double seconds,
                                       Properties kafka) throws Exception {
        ensureTopic(kafka, TOPIC);
        try (Producer<byte[], byte[]> producer = new KafkaProducer<>(producerProperties(kafka),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            AtomicInteger next = new AtomicInteger();
            long start = System.nanoTime();
            long tokens = measure(threads, deadline(seconds), clock -> {
                var batch = new Batcher(b -> producer.send(new ProducerRecord<>(TOPIC, b)),
                        BatchMeta.of(tok, 1).idBytes());
                return readShards(tok, shards, next, clock, batch::add);
            }).tokens();
            producer.flush();
            return new Rate(tokens, (System.nanoTime() - start) / 1e9);
        }
    }

    /** A one-partition topic for a reference's batches, as the bench job's topics have. */
    static void ensureTopic(Properties kafka, String topic) throws Exception {
        try (Admin admin = Admin.create(kafka)) {
            if (!admin.listTopics().names().get().contains(topic)) {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            }
        }
    }

    /** What every reference producer sends with: acknowledged by all replicas, uncompressed as the job's default. */
    static Properties producerProperties(Properties kafka) {
        Properties p = new Properties();
        p.putAll(kafka);
        p.put("acks", "all");
        p.put("compression.type", "none");
        p.put("max.request.size", Integer.toString(64 << 20));
        return p;
    }

    private static long deadline(double seconds) {
        return System.nanoTime() + (long) (seconds * 1e9);
    }

    private static Rate measure(int threads, long deadline, Worker worker) throws Exception {
        AtomicInteger id = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads,
                r -> new Thread(r, ThreadCpu.REFERENCE_PREFIX + id.getAndIncrement()));
        try {
            long start = System.nanoTime();
            List<Future<Long>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                parts.add(pool.submit(() -> worker.run(now -> now < deadline)));
            }
            long tokens = 0;
            for (Future<Long> f : parts) {
                tokens += f.get();
            }
            return new Rate(tokens, (System.nanoTime() - start) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Reads whole shards, the next one from {@code next} each time, tokenizing every document; returns the tokens. */
    private static long readShards(Tokenizer tok, List<Path> shards, AtomicInteger next, LongPredicate beforeDeadline,
                                   Consumer<int[]> sink) throws Exception {
        var format = new CorpusFormat(java.util.Map.of("bench",
                new CorpusFormat.Options("bench", "text", CorpusFormat.TextMode.FILE, 64 << 20)));
        long n = 0;
        while (beforeDeadline.test(System.nanoTime())) {
            int i = next.getAndIncrement();
            Path p = shards.get(i % shards.size());
            long size = Files.size(p);
            var split = new FileSourceSplit(ShardSchedule.id(i, "bench"), new org.apache.flink.core.fs.Path(p.toUri()),
                    0, size, 0, size);
            try (var reader = format.createReader(new Configuration(), split)) {
                for (BulkFormat.RecordIterator<CorpusRecord> records;
                     beforeDeadline.test(System.nanoTime()) && (records = reader.readBatch()) != null; ) {
                    for (RecordAndPosition<CorpusRecord> r; (r = records.next()) != null; ) {
                        if (r.getRecord().text() != null) {
                            int[] ids = tok.encode(r.getRecord().text());
                            n += ids.length;
                            sink.accept(ids);
                        }
                    }
                }
            }
        }
        return n;
    }

    /** Packs ids into batches of {@link #BATCH_TOKENS} ids of {@code idBytes} each and hands on each full one. */
    static final class Batcher {
        private final Consumer<byte[]> send;
        private final boolean narrow;
        private ByteBuffer batch;

        Batcher(Consumer<byte[]> send, int idBytes) {
            this.send = send;
            this.narrow = idBytes == 2;
            this.batch = ByteBuffer.allocate(BATCH_TOKENS * idBytes);
        }

        void add(int[] ids) {
            for (int id : ids) {
                if (!batch.hasRemaining()) {
                    send.accept(batch.array());
                    batch = ByteBuffer.allocate(batch.capacity());
                }
                if (narrow) {
                    batch.putShort((short) id);
                } else {
                    batch.putInt(id);
                }
            }
        }
    }
}
