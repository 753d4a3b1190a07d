package dev.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.runtime.embedded.EmbeddedKafka;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench's references count real work: every document of every shard read, every full batch in Kafka. */
class ReferenceRatesTest {

    private static final Tokenizer GPT2 = Tokenizers.load("gpt2");

    @TempDir
    Path dir;

    /** A gzip shard of fewer documents than a reader batch, so every measured span reads whole shards. */
    private Path shard(List<String> texts) throws Exception {
        Path p = dir.resolve("s-00000.jsonl.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(p))) {
            for (String t : texts) {
                out.write(("{\"text\": \"" + t + "\"}\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        return p;
    }

    private static List<String> documents() {
        return IntStream.range(0, 100).mapToObj(i -> "Document " + i + " says " + "words ".repeat(i % 7 + 1)).toList();
    }

    @Test
    void readsAndTokenizesWholeShards() throws Exception {
        List<String> texts = documents();
        long perShard = texts.stream().mapToLong(t -> GPT2.encode(t).length).sum();
        var rate = ReferenceRates.readAndTokenize(GPT2, List.of(shard(texts)), 2, 0.3);
        assertTrue(rate.tokens() >= perShard, "read at least one shard: " + rate);
        assertEquals(0, rate.tokens() % perShard, "whole shards of " + perShard + " tokens: " + rate);
        assertEquals(perShard, ReferenceRates.tokenize(GPT2, texts, 2, 0).tokens(), "one pass of the bare tokenizer");
    }

    @Test
    void sendsEveryFullBatchToKafka() throws Exception {
        List<String> texts = documents();
        int[] stream = texts.stream().flatMapToInt(t -> Arrays.stream(GPT2.encode(t))).toArray();
        // the span is timed: on a loaded host half a second may not fill one batch, so a longer span is tried then
        for (double seconds = 0.5; ; seconds *= 4) {
            if (producesFullBatches(shard(texts), stream, seconds) || seconds > 10) {
                return;
            }
        }
    }

    /** False if the span was too short to fill a batch; otherwise checks the batches and returns true. */
    private static boolean producesFullBatches(Path shard, int[] stream, double seconds) throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(0)) {
            Properties p = new Properties();
            p.put("bootstrap.servers", kafka.bootstrapServers());
            var rate = ReferenceRates.readTokenizeAndProduce(GPT2, List.of(shard), 1, seconds, p);
            if (rate.tokens() < ReferenceRates.BATCH_TOKENS && seconds <= 10) {
                return false;
            }

            try (var consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                var tp = new TopicPartition(ReferenceRates.TOPIC, 0);
                consumer.assign(List.of(tp));
                long batches = consumer.endOffsets(List.of(tp)).get(tp);
                long sent = batches * ReferenceRates.BATCH_TOKENS;
                assertTrue(batches > 0 && sent <= rate.tokens() && rate.tokens() - sent < ReferenceRates.BATCH_TOKENS,
                        batches + " batches for " + rate);
                consumer.seekToBeginning(List.of(tp));
                var first = consumer.poll(Duration.ofSeconds(10)).iterator().next().value();
                // gpt2's ids go as 16-bit values, as wide as the job's batch format writes them
                assertEquals(2L * ReferenceRates.BATCH_TOKENS, first.length, "two bytes per id");
                int[] ids = new int[ReferenceRates.BATCH_TOKENS];
                var shorts = ByteBuffer.wrap(first).asShortBuffer();
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = Short.toUnsignedInt(shorts.get(i));
                }
                int[] expected = IntStream.range(0, ids.length).map(i -> stream[i % stream.length]).toArray();
                assertArrayEquals(expected, ids, "the first batch holds the shard's ids in order, shard after shard");
            }
        }
        return true;
    }
}
