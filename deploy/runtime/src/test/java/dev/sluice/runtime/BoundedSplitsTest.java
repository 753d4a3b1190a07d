package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.core.execution.SavepointFormatType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shards many times the split size through the real broker and MiniCluster: the sampler holds about parallelism
 * splits, not shards; the sequence count matches one computed here without Flink; the batches are the same after
 * a stop with a savepoint at one reader parallelism and a restore at another.
 */
class BoundedSplitsTest {

    static final int SPLIT_BYTES = 1 << 20;
    static final int SHARD_BYTES = 6 << 20;
    static final int SEQ_LEN = 64;
    /** Long enough that a stop with a savepoint lands before the end (the first checkpoint took ~3 s of ~5 s). */
    static final int EPOCHS = 10;

    @TempDir
    Path dir;

    /** Two sources (b weighted 2); writes the shards and returns each document with the byte its line starts at. */
    List<Object[]> writeCorpus() throws Exception {
        String[] words = "the of and river a stream sluice gate water flows through to in mill wheel turns each day"
                .split(" ");
        Random random = new Random(11);
        List<Object[]> documents = new ArrayList<>();
        for (String name : List.of("a-00000.jsonl", "a-00001.jsonl", "b-00000.jsonl")) {
            Path file = dir.resolve(name);
            long at = 0;
            try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                while (at < SHARD_BYTES) {
                    StringBuilder text = new StringBuilder(name).append(' ').append(at);
                    for (int n = 20 + random.nextInt(400); n > 0; n--) {
                        text.append(' ').append(words[random.nextInt(words.length)]);
                    }
                    String line = "{\"text\": \"" + text + "\"}\n";
                    out.write(line);
                    documents.add(new Object[] {file.toString(), at, text.toString()});
                    at += line.getBytes(StandardCharsets.UTF_8).length;
                }
            }
        }
        return documents;
    }

    PipelineConfig config(String dataset, int parallelism) {
        return YamlConfig.parse("""
                data: {dataset: %s, tokenizer: gpt2, seq_len: %d}
                batch_sequences: 16
                packing: concat
                val_fraction: 0
                shuffle_buffer: 64
                partitions: 2
                parallelism: %d
                split_bytes: %d
                epochs: %d
                checkpoint_interval_ms: 300
                sources:
                  - {name: a, paths: ["%s/a-*.jsonl"]}
                  - {name: b, paths: ["%s/b-*.jsonl"], weight: 2}
                """.formatted(dataset, SEQ_LEN, parallelism, SPLIT_BYTES, EPOCHS, dir, dir), PipelineConfig.class);
    }

    /**
     * Without Flink: a document belongs to the split holding its line's first byte; concat packing cuts each split's
     * stream of [BOS] + ids into seq_len+1 windows and drops the tail.
     */
    static long referenceSequences(List<Object[]> documents, Tokenizer tokenizer) {
        Map<String, Long> tokensPerSplit = new java.util.TreeMap<>();
        for (Object[] d : documents) {
            String split = d[0] + "#" + ((long) d[1]) / SPLIT_BYTES;
            tokensPerSplit.merge(split, 1L + tokenizer.encode((String) d[2]).length, Long::sum);
        }
        return EPOCHS * tokensPerSplit.values().stream().mapToLong(t -> t / (SEQ_LEN + 1)).sum();
    }

    @Test
    void shardsManySplitsLongStayBoundedCountedAndTheSameAfterARestoreAtAnotherParallelism() throws Exception {
        List<Object[]> documents = writeCorpus();
        Tokenizer gpt2 = Tokenizers.load("gpt2");
        BatchMeta meta = BatchMeta.of(gpt2, SEQ_LEN);
        long expected = referenceSequences(documents, gpt2);
        try (Infrastructure infra = Infrastructure.builder().slots(8).start()) {
            PipelineConfig two = config("p2", 2);
            ObjectNode summary = PipelineRunner.of(new TokenizeJob(two), infra).start().awaitSummary();
            ObjectNode train = (ObjectNode) summary.get("topics").get(two.data().topic("train"));
            assertEquals(expected, train.get("sequences").asLong(), summary.toString());
            long splits = 0;
            for (String name : List.of("a-00000.jsonl", "a-00001.jsonl", "b-00000.jsonl")) {
                splits += EPOCHS * ((Files.size(dir.resolve(name)) + SPLIT_BYTES - 1) / SPLIT_BYTES);
            }
            assertEquals(splits, summary.get("splits").asLong(), "three ~6 MiB shards in 1 MiB splits");
            // The enumerator's window, 2 x parallelism x split_bytes of text (as ids no more bytes than the text),
            // plus one split whose end may still be on its way to the sampler; the run reads ~190 MB of text.
            long bound = (2L * 2 + 1) * SPLIT_BYTES;
            assertTrue(train.get("sampler_peak_waiting_bytes").asLong() <= bound, summary.toString());
            assertTrue(train.get("sampler_peak_state_bytes").asLong() <= bound + 64L * (SEQ_LEN + 1) * 4 * 2,
                    summary.toString());
            System.err.println("bounded splits: " + summary);
            List<String> reference = Topics.contents(infra.bootstrapServers(), two.data().topic("train"), meta);
            assertEquals(expected, reference.stream().mapToLong(s -> s.split(",").length).sum());

            // stop with a savepoint once a checkpoint has committed something, resume at parallelism 3: the same
            // batches again
            PipelineConfig first = config("resumed", 2);
            var run = PipelineRunner.of(new TokenizeJob(first), infra).start();
            String topic = first.data().topic("train");
            long t0 = System.nanoTime();
            awaitFirstCheckpoint(infra, run.client().getJobID().toString()); // the job takes seconds more
            System.err.printf("first checkpoint after %.1f s; stopping with a savepoint%n", (System.nanoTime() - t0) / 1e9);
            String savepoint = run.client().stopWithSavepoint(false, dir.resolve("savepoint").toUri().toString(),
                    SavepointFormatType.CANONICAL).get();
            int before = Topics.contents(infra.bootstrapServers(), topic, meta).size();
            assertTrue(before < reference.size(), "stopped part-way: " + before + " of " + reference.size());
            PipelineRunner.of(new TokenizeJob(config("resumed", 3)), infra).fromSavepoint(savepoint).start()
                    .awaitSummary();
            assertEquals(reference, Topics.contents(infra.bootstrapServers(), topic, meta),
                    "stopped at parallelism 2 after " + before + " batches, resumed at 3");
        }
    }

    static void awaitFirstCheckpoint(Infrastructure infra, String job) throws Exception {
        var client = java.net.http.HttpClient.newHttpClient();
        var request = java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(infra.webUrl() + "/jobs/" + job + "/checkpoints")).build();
        long deadline = System.currentTimeMillis() + 60_000;
        while (new com.fasterxml.jackson.databind.ObjectMapper().readTree(client.send(request,
                java.net.http.HttpResponse.BodyHandlers.ofString()).body()).path("counts").path("completed").asInt() < 1) {
            assertTrue(System.currentTimeMillis() < deadline, "no checkpoint completed");
            Thread.sleep(50);
        }
    }
}
