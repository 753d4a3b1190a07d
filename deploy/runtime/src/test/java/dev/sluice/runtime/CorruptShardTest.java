package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deliberately broken shards: a malformed JSON line, invalid UTF-8, an empty and a 100 MB document, a record
 * without the text field, and a truncated .gz. The job must finish, count each, and deliver every good record.
 */
class CorruptShardTest {

    @TempDir
    Path dir;

    static String text(String marker) {
        return marker + " is a good document that must arrive whole.";
    }

    static String doc(String marker) {
        return "{\"id\":\"" + marker + "\",\"text\":\"" + text(marker) + "\"}\n";
    }

    /** Ends a shard: packing drops the shard's last partial window, which then holds only this filler. */
    static final String FILLER = doc("filler").replace("must arrive whole", "may lose its tail " + "z ".repeat(20));

    @Test
    void badRecordsAreCountedAndSkippedAndEveryGoodRecordArrives() throws Exception {
        List<String> good = new ArrayList<>();
        // shard 1: plain JSON lines with every kind of bad line between good ones
        var shard1 = new ByteArrayOutputStream();
        for (int i = 0; i < 5; i++) {
            good.add("alpha" + i);
            shard1.write(doc("alpha" + i).getBytes(StandardCharsets.UTF_8));
        }
        shard1.write("{\"text\": \"unterminated\n".getBytes(StandardCharsets.UTF_8));             // malformed JSON
        shard1.write("{\"text\": \"\"}\n".getBytes(StandardCharsets.UTF_8));                       // empty document
        shard1.write("{\"body\": \"no text field\"}\n".getBytes(StandardCharsets.UTF_8));          // missing field
        shard1.write("{\"text\": \"bravo0 broken \u00ff".getBytes(StandardCharsets.UTF_8));
        shard1.write(new byte[] {(byte) 0xC3, (byte) 0x28, (byte) 0xFF});                           // invalid UTF-8
        shard1.write(" bytes\"}\n".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 5; i++) {
            good.add("charlie" + i);
            shard1.write(doc("charlie" + i).getBytes(StandardCharsets.UTF_8));
        }
        shard1.write(FILLER.getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("mixed-00000.jsonl"), shard1.toByteArray());

        // shard 2: a 100 MB document between good ones (over max_document_bytes, 16 MiB by default). It starts in
        // the shard's first 64 MiB split and ends in the second, which skips through it to delta1; each split ends
        // with a filler, whose tail the split's dropped partial window may take
        try (OutputStream out = Files.newOutputStream(dir.resolve("mixed-00001.jsonl"))) {
            out.write(doc("delta0").getBytes(StandardCharsets.UTF_8));
            out.write(FILLER.getBytes(StandardCharsets.UTF_8));
            out.write("{\"text\": \"".getBytes(StandardCharsets.UTF_8));
            byte[] chunk = "x".repeat(1 << 20).getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 100; i++) {
                out.write(chunk);
            }
            out.write("\"}\n".getBytes(StandardCharsets.UTF_8));
            out.write(doc("delta1").getBytes(StandardCharsets.UTF_8));
            out.write(FILLER.getBytes(StandardCharsets.UTF_8));
        }
        good.add("delta0");
        good.add("delta1");

        // shard 3: a .gz cut off in the middle; every record before the cut must still arrive
        var gz = new ByteArrayOutputStream();
        try (var out = new GZIPOutputStream(gz)) {
            for (int i = 0; i < 400; i++) {
                out.write(doc("echo" + i).getBytes(StandardCharsets.UTF_8));
            }
        }
        byte[] whole = gz.toByteArray();
        Files.write(dir.resolve("mixed-00002.jsonl.gz"), Arrays.copyOf(whole, whole.length * 2 / 3));
        int echoBeforeCut = countReadable(Arrays.copyOf(whole, whole.length * 2 / 3));
        // The last record before the cut may lose its tail to the shard's dropped partial window; check the rest whole.
        for (int i = 0; i < echoBeforeCut - 1; i++) {
            good.add("echo" + i);
        }
        int documents = good.size() + 1 /* bravo0 */ + 3 /* fillers */ + 1 /* last echo */;

        PipelineConfig config = YamlConfig.parse("""
                data: {dataset: corrupt, tokenizer: gpt2, seq_len: 8}
                batch_sequences: 4
                packing: concat
                val_fraction: 0
                parallelism: 2
                checkpoint_interval_ms: 500
                sources: [{name: mixed, paths: ["%s"]}]
                """.formatted(dir), PipelineConfig.class);
        ObjectNode summary;
        try (Infrastructure infra = Infrastructure.builder().slots(6).start()) {
            summary = PipelineRunner.of(new TokenizeJob(config), infra).start().awaitSummary();
            // malformed JSON, empty, missing field, 100 MB, truncated gz
            assertEquals(5, summary.get("rejected_records").asLong(), summary.toString());
            assertEquals(1, summary.get("invalid_utf8_records").asLong(), summary.toString());
            assertEquals(documents, summary.get("topics").get(config.data().topic("train")).get("documents").asLong(),
                    summary.toString());

            Tokenizer gpt2 = Tokenizers.load("gpt2");
            var topic = Topics.read(infra.bootstrapServers(), config.data().topic("train"), BatchMeta.of(gpt2, 8));
            // In seq_id order (shard, then window) the concat-packed rows are each shard's token stream again.
            java.util.TreeMap<Long, int[]> rows = new java.util.TreeMap<>();
            for (List<TokenBatch> batches : topic.values()) {
                for (TokenBatch b : batches) {
                    for (int r = 0; r < b.size(); r++) {
                        rows.put(b.seqIds()[r], b.row(r));
                    }
                }
            }
            StringBuilder stream = new StringBuilder();
            rows.values().forEach(row -> stream.append(gpt2.decode(row)));
            for (String marker : good) {
                assertTrue(stream.indexOf("<|endoftext|>" + text(marker)) >= 0, "good record " + marker + " did not arrive");
            }
            String repaired = "<|endoftext|>bravo0 broken \u00ff\uFFFD(\uFFFD bytes<|endoftext|>";
            assertTrue(stream.indexOf(repaired) >= 0, "the invalid UTF-8 record arrives with U+FFFD in place");
            assertTrue(summary.get("dropped_tokens").asLong() < 3 * 9, summary.toString());
        }
        assertTrue(echoBeforeCut > 100, "records before the cut: " + echoBeforeCut);
    }

    /** How many whole lines a truncated gzip yields before it breaks (what a reader can deliver). */
    static int countReadable(byte[] truncated) {
        int lines = 0;
        try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(truncated))) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    lines += buf[i] == '\n' ? 1 : 0;
                }
            }
        } catch (java.io.IOException expected) {
            // the cut
        }
        return lines;
    }
}
