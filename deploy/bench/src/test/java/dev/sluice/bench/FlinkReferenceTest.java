package dev.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.runtime.Infrastructure;
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
import java.util.Map;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Flink reference does the job's reading and tokenizing for real: every document of every epoch counted (against
 * the tokenizer run without Flink) and every full batch in Kafka, in reading order.
 */
class FlinkReferenceTest {

    private static final Tokenizer GPT2 = Tokenizers.load("gpt2");

    @TempDir
    Path dir;

    @Test
    void readsTokenizesAndSendsEveryEpoch() throws Exception {
        List<String> texts = IntStream.range(0, 100)
                .mapToObj(i -> "Document " + i + " reads " + "some more words ".repeat(40 + i % 9)).toList();
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dir.resolve("s-00000.jsonl.gz")))) {
            for (String t : texts) {
                out.write(("{\"text\": \"" + t + "\"}\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        int[] stream = texts.stream().flatMapToInt(t -> Arrays.stream(GPT2.encode(t))).toArray();
        int epochs = 8;
        long expected = (long) epochs * stream.length;

        try (Infrastructure infra = Infrastructure.builder().slots(2).start()) {
            var job = new TokenizeJob(PipelineBench.config("gpt2", dir, epochs, 1));
            var rate = FlinkReference.run(job, infra);
            assertEquals(expected, rate.tokens(), "every document of every epoch");

            try (var consumer = new KafkaConsumer<>(infra.kafkaClient(), new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                var tp = new TopicPartition(FlinkReference.TOPIC, 0);
                consumer.assign(List.of(tp));
                assertEquals(expected / ReferenceRates.BATCH_TOKENS, consumer.endOffsets(List.of(tp)).get(tp),
                        "every full batch, once");
                consumer.seekToBeginning(List.of(tp));
                byte[] first = consumer.poll(Duration.ofSeconds(10)).iterator().next().value();
                var shorts = ByteBuffer.wrap(first).asShortBuffer();
                int[] ids = new int[ReferenceRates.BATCH_TOKENS];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = Short.toUnsignedInt(shorts.get(i));
                }
                assertArrayEquals(IntStream.range(0, ids.length).map(i -> stream[i % stream.length]).toArray(), ids,
                        "the first batch holds the ids in reading order, 16 bits each");
            }
        }
    }
}
