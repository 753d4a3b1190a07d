package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.pipeline.DocumentSplit;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The TokenizeJob on a real in-process Kafka broker and a real Flink MiniCluster, over the demo corpus. */
class TokenizeJobTest {

    static Infrastructure infra;

    @BeforeAll
    static void start() {
        infra = Infrastructure.builder().slots(8).start();
    }

    @AfterAll
    static void stop() {
        infra.close();
    }

    static PipelineConfig demo(String dataset) {
        return YamlConfig.parse("""
                data: {dataset: %s, tokenizer: gpt2, seq_len: 256}
                batch_sequences: 16
                seed: 42
                val_fraction: 0.05
                shuffle_buffer: 64
                partitions: 2
                parallelism: 2
                checkpoint_interval_ms: 500
                sources:
                  - {name: sotu, paths: ["../../data/corpus/sotu-*.jsonl.gz"], weight: 1}
                  - {name: web, paths: ["../../data/corpus/web-*.jsonl.gz"], weight: 2}
                  - {name: kjv, paths: ["../../data/corpus/kjv-*.jsonl.gz"], weight: 1}
                """.formatted(dataset), PipelineConfig.class);
    }

    static ObjectNode run(PipelineConfig config) throws Exception {
        return PipelineRunner.of(new TokenizeJob(config), infra).start().awaitSummary();
    }

    @Test
    void sameConfigAndSeedGiveTheSameBatchesInTheSameOrderAndEverySeqIdOnce() throws Exception {
        PipelineConfig a = demo("det-a");
        PipelineConfig b = demo("det-b");
        ObjectNode summaryA = run(a);
        ObjectNode summaryB = run(b);
        Tokenizer gpt2 = Tokenizers.load("gpt2");
        BatchMeta meta = BatchMeta.of(gpt2, 256);
        for (String split : List.of("train", "val")) {
            var first = Topics.read(infra.bootstrapServers(), a.data().topic(split), meta);
            var second = Topics.read(infra.bootstrapServers(), b.data().topic(split), meta);
            assertEquals(2, first.size());
            Set<Long> seen = new HashSet<>();
            long rows = 0;
            for (int partition : first.keySet()) {
                List<TokenBatch> x = first.get(partition);
                List<TokenBatch> y = second.get(partition);
                assertEquals(x.size(), y.size(), split + " partition " + partition + " batch count");
                for (int i = 0; i < x.size(); i++) {
                    assertArrayEquals(x.get(i).seqIds(), y.get(i).seqIds(), split + " p" + partition + " batch " + i);
                    assertArrayEquals(x.get(i).tokens(), y.get(i).tokens(), split + " p" + partition + " batch " + i);
                    assertArrayEquals(x.get(i).sources(), y.get(i).sources());
                    for (long id : x.get(i).seqIds()) {
                        assertTrue(seen.add(id), "seq_id " + id + " appears twice in " + a.data().topic(split));
                    }
                    rows += x.get(i).size();
                }
            }
            JsonNode topicSummary = summaryA.get("topics").get(a.data().topic(split));
            assertEquals(topicSummary.get("sequences").asLong(), rows, split + ": summary counts what the topic holds");
            for (String field : List.of("documents", "sequences", "tokens", "batches")) { // peaks depend on timing
                assertEquals(summaryA.get("topics").get(a.data().topic(split)).get(field),
                        summaryB.get("topics").get(b.data().topic(split)).get(field), field);
            }
            assertTrue(rows > (split.equals("train") ? 10_000 : 100), split + " rows: " + rows);
        }
        assertEquals(0, summaryA.get("rejected_records").asLong());
    }

    @Test
    void validationDocumentsNeverReachTraining() throws Exception {
        PipelineConfig c = demo("split");
        run(c);
        Tokenizer gpt2 = Tokenizers.load("gpt2");
        BatchMeta meta = BatchMeta.of(gpt2, 256);
        Set<String> trainStarts = documentStarts(Topics.read(infra.bootstrapServers(), c.data().topic("train"), meta), gpt2);
        Set<String> valStarts = documentStarts(Topics.read(infra.bootstrapServers(), c.data().topic("val"), meta), gpt2);
        List<String> texts = DemoCorpus.texts(Path.of("../../data/corpus"));
        // Some chapters open with the same words; only a start no training document shares can be told apart.
        Set<String> trainDocumentStarts = new HashSet<>();
        for (String text : texts) {
            if (!DocumentSplit.isValidation(text, c.valFraction())) {
                trainDocumentStarts.add(key(gpt2.bosId(), Arrays.copyOf(gpt2.encode(text), PREFIX)));
            }
        }
        int val = 0;
        int found = 0;
        for (String text : texts) {
            String start = key(gpt2.bosId(), Arrays.copyOf(gpt2.encode(text), PREFIX));
            if (DocumentSplit.isValidation(text, c.valFraction()) && !trainDocumentStarts.contains(start)) {
                val++;
                assertFalse(trainStarts.contains(start), "validation document found in training: " + text.substring(0, 60));
                found += valStarts.contains(start) ? 1 : 0;
            }
        }
        assertTrue(val > 50, "validation documents: " + val);
        assertTrue(found > val / 2, "most validation documents start a window in the val topic: " + found + "/" + val);
    }

    static final int PREFIX = 16;

    /** BOS plus the next PREFIX tokens, wherever a document starts inside a window. */
    static Set<String> documentStarts(Map<Integer, List<TokenBatch>> topic, Tokenizer tok) {
        Set<String> starts = new HashSet<>();
        for (List<TokenBatch> batches : topic.values()) {
            for (TokenBatch b : batches) {
                for (int r = 0; r < b.size(); r++) {
                    int[] row = b.row(r);
                    for (int i = 0; i + PREFIX < row.length; i++) {
                        if (row[i] == tok.bosId()) {
                            starts.add(key(tok.bosId(), Arrays.copyOfRange(row, i + 1, i + 1 + PREFIX)));
                        }
                    }
                }
            }
        }
        return starts;
    }

    static String key(int bos, int[] ids) {
        return bos + ":" + Arrays.toString(ids);
    }

    @Test
    void aTransactionTimeoutTheBrokerOrTheCheckpointsWouldBreakIsRefusedBeforeSubmit() {
        for (var c : List.of(
                new String[] {"60000", "set at least 360500"},              // 0.5 s interval + 5 min timeout + 1 min
                new String[] {"7200000", "above the brokers' transaction.max.timeout.ms (3600000)"})) {
            PipelineConfig config = YamlConfig.with(demo("timeout"), Map.of("kafka",
                    Map.of("properties", Map.of("transaction.timeout.ms", c[0]))));
            var e = assertThrows(IllegalArgumentException.class, () -> PipelineRunner.of(new TokenizeJob(config), infra)
                    .start(), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
    }

    @Test
    void twoRunsOfOneDatasetUseTransactionalIdsOfTheirOwn() {
        String topic = demo("ids").data().topics().get(0);
        String a = new TokenizeJob(demo("ids")).transactionalIdPrefix(topic);
        String b = new TokenizeJob(demo("ids")).transactionalIdPrefix(topic);
        assertTrue(a.startsWith("sluice-" + topic + "-") && b.startsWith("sluice-" + topic + "-"), a + " " + b);
        assertNotEquals(a, b);
    }
}
