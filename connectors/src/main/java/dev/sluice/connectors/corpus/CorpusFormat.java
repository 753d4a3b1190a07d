package dev.sluice.connectors.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.ArrayResultIterator;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.core.fs.FileSystem;

/**
 * Reads corpus shards (JSON lines or plain text, optionally gzip or zstd) for Flink's FileSource.
 *
 * <p>A shard is one split, read start to end by one reader, so every shard's records arrive in order. Nothing
 * in a shard stops the job: a malformed line, an empty or oversized document, or a truncated compressed stream
 * becomes a {@link CorpusRecord#rejected rejected} record, and reading goes on with the next line (or, for a
 * broken stream, ends the shard after every good record before the break). Each shard ends with one
 * {@link CorpusRecord#end end} marker. Positions are record counts, so a restored reader re-reads and skips.
 */
public final class CorpusFormat implements BulkFormat<CorpusRecord, FileSourceSplit> {

    /** How plain-text shards split into documents. */
    public enum TextMode { FILE, BLOCK }

    /** What a format instance needs to know; serializable because Flink ships the format to its tasks. */
    public record Options(String source, String textField, TextMode textMode, int maxDocumentBytes)
            implements Serializable {}

    private static final int BATCH_RECORDS = 256;
    private static final int BATCH_BYTES = 1 << 20;

    private final Options options;

    public CorpusFormat(Options options) {
        this.options = options;
    }

    @Override
    public Reader<CorpusRecord> createReader(Configuration config, FileSourceSplit split) throws IOException {
        return new ShardReader(split, options, 0);
    }

    @Override
    public Reader<CorpusRecord> restoreReader(Configuration config, FileSourceSplit split) throws IOException {
        long skip = split.getReaderPosition().map(CheckpointedPosition::getRecordsAfterOffset).orElse(0L);
        return new ShardReader(split, options, skip);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<CorpusRecord> getProducedType() {
        return TypeInformation.of(CorpusRecord.class);
    }

    private static final class ShardReader implements Reader<CorpusRecord> {
        private static final ObjectMapper JSON = new ObjectMapper();

        private final String shard;
        private final int ordinal;
        private final String fileName;
        private final Options options;
        private final InputStream in;
        private final LineReader lines;
        private long toSkip;
        private long emitted;
        private long lineNo;
        private boolean streamDone;
        private boolean ended;

        ShardReader(FileSourceSplit split, Options options, long skip) throws IOException {
            this.shard = split.path().toUri().getPath();
            this.ordinal = OrderedShards.ordinal(split.splitId());
            this.fileName = split.path().getName();
            this.options = options;
            FileSystem fs = split.path().getFileSystem();
            this.in = Compression.decompress(fileName, fs.open(split.path()));
            this.lines = new LineReader(in, options.maxDocumentBytes());
            this.toSkip = skip;
        }

        @Override
        public RecordIterator<CorpusRecord> readBatch() throws IOException {
            if (ended) {
                return null;
            }
            List<CorpusRecord> batch = new ArrayList<>();
            long batchBytes = 0;
            long firstPosition = emitted;
            while (batch.size() < BATCH_RECORDS && batchBytes < BATCH_BYTES && !ended) {
                CorpusRecord r = next();
                if (toSkip > 0) {
                    toSkip--;
                    emitted++;
                    firstPosition = emitted;
                    continue;
                }
                batch.add(r);
                emitted++;
                batchBytes += r.text() == null ? 64 : r.text().length();
            }
            if (batch.isEmpty()) {
                return null;
            }
            var it = new ArrayResultIterator<CorpusRecord>();
            it.set(batch.toArray(new CorpusRecord[0]), batch.size(), CheckpointedPosition.NO_OFFSET, firstPosition);
            return it;
        }

        /** The next record of the shard; the end marker last. */
        private CorpusRecord next() {
            if (!streamDone) {
                try {
                    CorpusRecord r = options.textMode() == TextMode.FILE && ShardFormat.of(fileName) == ShardFormat.TEXT
                            ? wholeFile() : nextLineOrBlock();
                    if (r != null) {
                        return r;
                    }
                } catch (IOException e) {
                    streamDone = true;
                    return CorpusRecord.rejected(shard, ordinal, lineNo + 1, options.source(),
                            "unreadable after line " + lineNo + " (truncated or corrupt file): " + e);
                }
                streamDone = true;
            }
            ended = true;
            return CorpusRecord.end(shard, ordinal, lineNo, options.source());
        }

        private CorpusRecord nextLineOrBlock() throws IOException {
            if (ShardFormat.of(fileName) == ShardFormat.TEXT) {
                return nextBlock();
            }
            while (true) {
                LineReader.Line line = lines.next();
                if (line == null) {
                    return null;
                }
                lineNo++;
                if (line.oversized()) {
                    return tooLarge(line.length());
                }
                if (line.isBlank()) {
                    continue; // blank lines between JSON records are not records
                }
                return jsonDocument(line);
            }
        }

        private CorpusRecord jsonDocument(LineReader.Line line) {
            Utf8Text decoded = Utf8Text.decode(line.bytes(), line.length());
            JsonNode node;
            try {
                node = JSON.readTree(decoded.text());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                return CorpusRecord.rejected(shard, ordinal, lineNo, options.source(),
                        "malformed JSON: " + e.getOriginalMessage());
            }
            JsonNode text = node == null ? null : node.get(options.textField());
            if (text == null || !text.isTextual()) {
                return CorpusRecord.rejected(shard, ordinal, lineNo, options.source(),
                        "no string field '" + options.textField() + "'");
            }
            if (text.asText().isEmpty()) {
                return CorpusRecord.rejected(shard, ordinal, lineNo, options.source(), "empty document");
            }
            JsonNode id = node.get("id");
            String docId = id != null && id.isValueNode() ? id.asText() : shard + ":" + lineNo;
            return CorpusRecord.document(shard, ordinal, lineNo, docId, options.source(), text.asText(), decoded.repaired());
        }

        private CorpusRecord nextBlock() throws IOException {
            var block = new java.io.ByteArrayOutputStream();
            long start = -1;
            while (true) {
                LineReader.Line line = lines.next();
                if (line == null) {
                    break;
                }
                lineNo++;
                if (line.isBlank()) {
                    if (block.size() > 0) {
                        break;
                    }
                    continue;
                }
                if (start < 0) {
                    start = lineNo;
                }
                if (line.oversized() || block.size() + line.length() > options.maxDocumentBytes()) {
                    block.reset();
                    return tooLarge(line.length());
                }
                if (block.size() > 0) {
                    block.write('\n');
                }
                block.write(line.bytes(), 0, line.length());
            }
            if (block.size() == 0) {
                return null;
            }
            Utf8Text decoded = Utf8Text.decode(block.toByteArray(), block.size());
            return CorpusRecord.document(shard, ordinal, start, shard + ":" + start, options.source(), decoded.text(),
                    decoded.repaired());
        }

        private CorpusRecord wholeFile() throws IOException {
            if (lineNo > 0) {
                return null;
            }
            byte[] all = in.readNBytes(options.maxDocumentBytes() + 1);
            lineNo = 1;
            if (all.length > options.maxDocumentBytes()) {
                return tooLarge(all.length);
            }
            if (all.length == 0) {
                return CorpusRecord.rejected(shard, ordinal, 1, options.source(), "empty document");
            }
            Utf8Text decoded = Utf8Text.decode(all, all.length);
            return CorpusRecord.document(shard, ordinal, 1, shard, options.source(), decoded.text(), decoded.repaired());
        }

        private CorpusRecord tooLarge(long length) {
            return CorpusRecord.rejected(shard, ordinal, lineNo, options.source(), "document of " + length
                    + "+ bytes exceeds max_document_bytes " + options.maxDocumentBytes());
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
