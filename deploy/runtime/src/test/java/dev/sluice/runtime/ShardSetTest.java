package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.connectors.kafka.BatchTopicReader;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shard set of a bounded run is the one listed at submission: a shard deleted before it is read is counted and
 * named, and one added after submission is not read; either way the job emits every sequence of the shards it did
 * read, checked against a run that only ever saw those shards.
 */
class ShardSetTest {

    static Infrastructure infra;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        infra = Infrastructure.builder().slots(8).start();
    }

    @AfterAll
    static void stop() {
        infra.close();
    }

    static PipelineConfig config(String dataset, Path corpus) {
        return YamlConfig.parse("""
                data: {dataset: %s, tokenizer: gpt2, seq_len: 128}
                batch_sequences: 8
                val_fraction: 0.05
                partitions: 2
                parallelism: 2
                checkpoint_interval_ms: 500
                sources: [{name: corpus, paths: ["%s"]}]
                """.formatted(dataset, corpus), PipelineConfig.class);
    }

    /** Every row of both topics, as text, sorted: the sequences whatever their order and seq_ids. */
    static List<String> rows(PipelineConfig config) {
        List<String> rows = new ArrayList<>();
        try (var reader = new BatchTopicReader(infra.kafkaClient())) {
            for (String topic : config.data().topics()) {
                for (List<TokenBatch> batches : reader.readAll(topic, config.data().meta("gpt2")).values()) {
                    for (TokenBatch b : batches) {
                        for (int i = 0; i < b.size(); i++) {
                            rows.add(Arrays.toString(b.row(i)));
                        }
                    }
                }
            }
        }
        rows.sort(null);
        return rows;
    }

    @Test
    void aShardThatVanishesIsCountedAndNamedAndALateOneIsNotReadAndNothingIsLost() throws Exception {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Path kept = Files.createDirectories(dir.resolve("kept"));
        for (String shard : List.of("sotu-00000.jsonl.gz", "kjv-00000.jsonl.gz", "kjv-00001.jsonl.gz")) {
            Files.copy(Path.of("../../data/corpus", shard), corpus.resolve(shard));
        }
        Files.copy(corpus.resolve("sotu-00000.jsonl.gz"), kept.resolve("sotu-00000.jsonl.gz"));
        Files.copy(corpus.resolve("kjv-00001.jsonl.gz"), kept.resolve("kjv-00001.jsonl.gz"));

        PipelineConfig changing = config("shardset", corpus);
        TokenizeJob job = new TokenizeJob(changing);                     // lists the three shards
        assertEquals(3, job.shards().size());
        Path vanished = corpus.resolve("kjv-00000.jsonl.gz");
        Files.delete(vanished);                                          // gone before it is read
        Files.copy(Path.of("../../data/corpus/kjv-00002.jsonl.gz"), corpus.resolve("kjv-00002.jsonl.gz")); // late
        ObjectNode summary = PipelineRunner.of(job, infra).start().awaitSummary();

        assertEquals(1, summary.get("unreadable_shards").asInt(), summary.toString());
        assertEquals(vanished.toAbsolutePath().normalize().toString(),
                summary.get("unreadable_shard_paths").get(0).asText());
        PipelineConfig reference = config("shardset-reference", kept);
        PipelineRunner.of(new TokenizeJob(reference), infra).start().awaitSummary();
        List<String> expected = rows(reference);
        assertTrue(expected.size() > 100, expected.size() + " sequences");
        assertEquals(expected, rows(changing), "the sequences of exactly the shards that were there at submission");
        long summarized = 0;
        for (var topic : summary.get("topics")) {
            summarized += topic.get("sequences").asLong();
        }
        assertEquals(expected.size(), summarized, "the summary counts what the topics hold");
    }
}
