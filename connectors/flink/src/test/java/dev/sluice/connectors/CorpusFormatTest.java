package dev.sluice.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.connectors.corpus.CorpusFormat;
import dev.sluice.connectors.corpus.CorpusRecord;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The corpus formats read directly through the BulkFormat reader (the FileSource path is covered in deploy). */
class CorpusFormatTest {

    @TempDir
    Path dir;

    static CorpusFormat format(String mode) {
        return new CorpusFormat(Map.of("src", new CorpusFormat.Options("src", "text", CorpusFormat.TextMode.valueOf(mode),
                1 << 20)));
    }

    static List<CorpusRecord> readAll(CorpusFormat format, Path file, long skip) throws Exception {
        return readRange(format, file, 0, Files.size(file), skip);
    }

    static List<CorpusRecord> readRange(CorpusFormat format, Path file, long offset, long length, long skip)
            throws Exception {
        long size = Files.size(file);
        var split = new FileSourceSplit("7@src", new org.apache.flink.core.fs.Path(file.toUri()), offset, length, 0, size);
        if (skip > 0) {
            split = split.updateWithCheckpointedPosition(new CheckpointedPosition(CheckpointedPosition.NO_OFFSET, skip));
        }
        var reader = skip > 0 ? format.restoreReader(new Configuration(), split)
                : format.createReader(new Configuration(), split);
        List<CorpusRecord> out = new ArrayList<>();
        for (var batch = reader.readBatch(); batch != null; batch = reader.readBatch()) {
            for (var r = batch.next(); r != null; r = batch.next()) {
                out.add(r.getRecord());
            }
        }
        reader.close();
        return out;
    }

    /** Parquet files in FineWeb's column layout, written by pyarrow (text, id, dump, url, language_score, …). */
    static Path parquet(String name) {
        return Path.of("src/test/resources/parquet", name);
    }

    @Test
    void parquetTextColumnWithIdsAndNullsInEveryCompression() throws Exception {
        for (String codec : List.of("none", "snappy", "zstd", "gzip")) {
            List<CorpusRecord> records = readAll(format("FILE"), parquet("fineweb-" + codec + ".parquet"), 0);
            assertEquals(501, records.size(), codec);
            assertEquals("<urn:uuid:doc-0>", records.get(0).id());
            assertEquals("document number 0 ", records.get(0).text());
            assertEquals(7, records.get(0).shardOrdinal());
            assertTrue(records.get(3).isRejected() && records.get(3).error().contains("null 'text'"), codec);
            assertTrue(records.get(4).isRejected() && records.get(4).error().contains("empty"), codec);
            assertEquals("document number 499 " + "word ".repeat(49), records.get(499).text());
            assertEquals(500, records.get(499).line());
            assertTrue(records.get(500).endOfShard());
            assertEquals(records.subList(300, 501), readAll(format("FILE"), parquet("fineweb-" + codec + ".parquet"), 300));
        }
    }

    @Test
    void aParquetFileWithoutTheTextColumnIsOneRejectedRecord() throws Exception {
        List<CorpusRecord> records = readAll(format("FILE"), parquet("no-text-column.parquet"), 0);
        assertEquals(2, records.size());
        assertTrue(records.get(0).error().contains("no string column 'text'"), records.get(0).error());
        assertTrue(records.get(1).endOfShard());
    }

    @Test
    void textBlocksAndWholeFiles() throws Exception {
        Path file = dir.resolve("book.txt");
        Files.writeString(file, "first block\nstill first\n\n\nsecond block\n\nthird");
        List<CorpusRecord> blocks = readAll(format("BLOCK"), file, 0);
        assertEquals(List.of("first block\nstill first", "second block", "third"),
                blocks.stream().filter(r -> !r.endOfShard()).map(CorpusRecord::text).toList());
        assertEquals(5, blocks.get(1).line());
        List<CorpusRecord> whole = readAll(format("FILE"), file, 0);
        assertEquals(2, whole.size());
        assertEquals(Files.readString(file), whole.get(0).text());
    }

    @Test
    void zstdJsonLinesAndRestoreBySkipping() throws Exception {
        Path file = dir.resolve("shard.jsonl.zst");
        try (OutputStream out = new com.github.luben.zstd.ZstdOutputStream(Files.newOutputStream(file))) {
            for (int i = 0; i < 1000; i++) {
                out.write(("{\"text\": \"line " + i + "\"}\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        List<CorpusRecord> all = readAll(format("FILE"), file, 0);
        assertEquals(1001, all.size());
        assertEquals("line 999", all.get(999).text());
        List<CorpusRecord> rest = readAll(format("FILE"), file, 600);
        assertEquals(all.subList(600, 1001), rest);
        assertFalse(rest.get(0).endOfShard());
        assertNull(rest.get(400).text());
    }

    @Test
    void jsonLinesReadFromBytesAgreeWithTheStrictTreePath() throws Exception {
        Path file = dir.resolve("edge.jsonl");
        var bytes = new java.io.ByteArrayOutputStream();
        for (String line : List.of(
                "{\"meta\": {\"text\": \"nested, not this\"}, \"text\": \"caf\u00e9 \\\"quoted\\\"\\n\", \"id\": 12}",
                "{\"text\": \"first\", \"text\": {\"a\": 1}}",
                "{\"text\": \"emoji \ud83d\ude00 and \\ud83d\\ude00\"}",
                "[\"text\", \"an array is not a document\"]",
                "{\"text\": \"truncated\"")) {
            bytes.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }
        // an encoded surrogate (ED A0 80): valid to a lax decoder, malformed to Java's strict one
        bytes.write(new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', 'a', (byte) 0xED, (byte) 0xA0, (byte) 0x80,
                '"', '}', '\n'});
        Files.write(file, bytes.toByteArray());
        List<CorpusRecord> r = readAll(format("FILE"), file, 0);
        assertEquals("caf\u00e9 \"quoted\"\n", r.get(0).text());
        assertEquals("12", r.get(0).id());
        assertTrue(r.get(1).isRejected(), "the last duplicate field is not a string: " + r.get(1));
        assertEquals("emoji \ud83d\ude00 and \ud83d\ude00", r.get(2).text());
        assertTrue(r.get(3).isRejected());
        assertTrue(r.get(4).isRejected() && r.get(4).error().startsWith("malformed JSON"), r.get(4).toString());
        assertEquals("a\ufffd", r.get(5).text()); // Java replaces the whole sequence
        assertTrue(r.get(5).repairedUtf8());
        assertTrue(r.get(6).endOfShard());
    }

    @Test
    void aDocumentLongerThanJacksonsDefaultStringCapIsADocument() throws Exception {
        String text = "word ".repeat(5_000_000); // 25 M characters: over Jackson's default 20 M cap
        Path file = dir.resolve("long.jsonl");
        Files.writeString(file, "{\"text\": \"" + text + "\"}\n{\"text\": \"short\"}\n");
        var format = new CorpusFormat(Map.of("src", new CorpusFormat.Options("src", "text", CorpusFormat.TextMode.FILE, 64 << 20)));
        List<CorpusRecord> records = readAll(format, file, 0);
        assertEquals(null, records.get(0).error());
        assertEquals(text.length(), records.get(0).text().length());
        assertEquals("short", records.get(1).text());
    }

    @Test
    void aShardThatIsGoneOrNotGzipIsOneWholeShardRejectionAndItsEnd() throws Exception {
        Path notGzip = dir.resolve("fake.jsonl.gz");
        Files.writeString(notGzip, "{\"text\": \"plain\"}\n");
        for (Path p : List.of(notGzip, dir.resolve("gone.jsonl.gz"))) {
            var split = new FileSourceSplit("3@src", new org.apache.flink.core.fs.Path(p.toUri()), 0, 0, 0, 0);
            var reader = format("FILE").createReader(new Configuration(), split);
            List<CorpusRecord> out = new ArrayList<>();
            for (var batch = reader.readBatch(); batch != null; batch = reader.readBatch()) {
                for (var r = batch.next(); r != null; r = batch.next()) {
                    out.add(r.getRecord());
                }
            }
            reader.close();
            assertEquals(2, out.size(), p.toString());
            assertTrue(out.get(0).isUnreadableShard() && out.get(0).error().startsWith("cannot open shard"),
                    out.get(0).error());
            assertTrue(out.get(1).endOfShard());
        }
    }

    /** Every line of the file exactly once, in order, however the file is cut into ranges (cuts on, before and after line ends). */
    @Test
    void byteRangesOfJsonLinesTogetherReadEveryLineOnce() throws Exception {
        Path file = dir.resolve("ranges.jsonl");
        var lines = new StringBuilder();
        var random = new java.util.Random(3);
        for (int i = 0; i < 400; i++) {
            lines.append("{\"text\": \"doc ").append(i).append(" ").append("x".repeat(random.nextInt(60))).append("\"}\n");
            if (i % 50 == 7) {
                lines.append("not json\n");
            }
        }
        lines.append("{\"text\": \"last, without newline\"}");
        Files.writeString(file, lines.toString());
        List<String> whole = readAll(format("FILE"), file, 0).stream().filter(r -> !r.endOfShard())
                .map(r -> r.text() != null ? r.text() : "rejected").toList();
        long size = Files.size(file);
        for (long splitBytes : new long[] {1, 37, 64, 1000, 4096, size - 1, size}) {
            List<String> joined = new ArrayList<>();
            int ends = 0;
            for (long offset = 0; offset < size; offset += splitBytes) {
                double last = -1;
                for (CorpusRecord r : readRange(format("FILE"), file, offset, Math.min(splitBytes, size - offset), 0)) {
                    assertTrue(r.progress() >= last && r.progress() <= 1, "progress only grows, within [0, 1]");
                    last = r.progress();
                    if (r.endOfShard()) {
                        ends++;
                    } else {
                        joined.add(r.text() != null ? r.text() : "rejected");
                    }
                }
            }
            assertEquals(whole, joined, "ranges of " + splitBytes + " bytes");
            assertEquals((size + splitBytes - 1) / splitBytes, ends, "one end marker per range");
        }
        var rejected = readRange(format("FILE"), file, 4096, size - 4096, 0).stream().filter(CorpusRecord::isRejected)
                .findFirst().orElseThrow();
        assertTrue(rejected.error().contains("counted from byte 4096"), rejected.error());
    }

    @Test
    void byteRangesOfParquetHoldEachRowGroupOnce() throws Exception {
        Path file = parquet("fineweb-none.parquet");
        long size = Files.size(file);
        List<String> whole = readAll(format("FILE"), file, 0).stream().filter(r -> !r.endOfShard())
                .map(CorpusRecord::id).toList();
        List<String> joined = new ArrayList<>();
        for (long offset = 0; offset < size; offset += 10_000) {
            readRange(format("FILE"), file, offset, Math.min(10_000, size - offset), 0).stream()
                    .filter(r -> !r.endOfShard()).forEach(r -> joined.add(r.id()));
        }
        assertEquals(whole, joined);
        assertEquals(500, readAll(format("FILE"), file, 0).get(499).line(), "rows numbered in the file");
    }
}
