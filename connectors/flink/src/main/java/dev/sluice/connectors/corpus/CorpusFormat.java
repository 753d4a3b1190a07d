package dev.sluice.connectors.corpus;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.ArrayResultIterator;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.core.fs.FSDataInputStream;

/**
 * Reads splits of corpus shards (JSON lines or plain text, optionally gzip or zstd; Parquet) for Flink's file
 * reader; {@link ShardSchedule} says how shards are cut into splits.
 *
 * <p>A split is read start to end by one reader, so its records arrive in order, each with the reader's progress
 * through the split. Nothing in a split stops the job: a malformed line, an empty or oversized document, or a
 * truncated compressed stream becomes a {@link CorpusRecord#rejected rejected} record, and reading goes on with the
 * next line (or, for a broken stream, ends the split after every good record before the break). Each split ends
 * with one {@link CorpusRecord#end end} marker. Positions are record counts, so a restored reader re-reads its
 * split (at most split_bytes) and skips what it had emitted.
 */
public final class CorpusFormat implements BulkFormat<CorpusRecord, FileSourceSplit> {

    /** How plain-text shards split into documents. */
    public enum TextMode { FILE, BLOCK }

    /** What a format instance needs to know; serializable because Flink ships the format to its tasks. */
    public record Options(String source, String textField, TextMode textMode, int maxDocumentBytes)
            implements Serializable {}

    private static final int BATCH_RECORDS = 256;
    private static final int BATCH_BYTES = 1 << 20;

    private final Map<String, Options> options;

    /** @param options each source's options, by source name (the split id names the source) */
    public CorpusFormat(Map<String, Options> options) {
        this.options = Map.copyOf(options);
    }

    @Override
    public Reader<CorpusRecord> createReader(Configuration config, FileSourceSplit split) throws IOException {
        return new ShardReader(split, optionsOf(split), 0);
    }

    @Override
    public Reader<CorpusRecord> restoreReader(Configuration config, FileSourceSplit split) throws IOException {
        long skip = split.getReaderPosition().map(CheckpointedPosition::getRecordsAfterOffset).orElse(0L);
        return new ShardReader(split, optionsOf(split), skip);
    }

    private Options optionsOf(FileSourceSplit split) {
        Options o = options.get(ShardSchedule.source(split.splitId()));
        if (o == null) {
            throw new IllegalStateException("split " + split + " names a source this job does not have; known: "
                    + options.keySet());
        }
        return o;
    }

    @Override
    public boolean isSplittable() {
        return true;
    }

    @Override
    public TypeInformation<CorpusRecord> getProducedType() {
        return TypeInformation.of(CorpusRecord.class);
    }

    /** Turns one shard into records: its documents, a rejected record where it breaks, then the end marker. */
    private static final class ShardReader implements Reader<CorpusRecord> {

        private final ShardContext ctx;
        private final ShardDocuments documents;
        /** Appended to rejections in a split that does not start the shard, whose lines are counted from there. */
        private final String where;
        private long toSkip;
        private long emitted;
        private boolean broken;
        private boolean ended;

        ShardReader(FileSourceSplit split, Options options, long skip) throws IOException {
            this.ctx = new ShardContext(split.path().toUri().getPath(), ShardSchedule.ordinal(split.splitId()), options);
            this.documents = open(split, ctx);
            this.where = split.offset() == 0 || ShardFormat.of(split.path().getName()) == ShardFormat.PARQUET ? ""
                    : " (lines counted from byte " + split.offset() + ", where this split starts)";
            this.toSkip = skip;
        }

        private static ShardDocuments open(FileSourceSplit split, ShardContext ctx) throws IOException {
            org.apache.flink.core.fs.Path path = split.path();
            String name = path.getName();
            ShardFormat format = ShardFormat.of(name);
            if (format == ShardFormat.PARQUET) {
                try {
                    return new ParquetDocuments(ctx, path, split.offset(), split.length());
                } catch (IOException | RuntimeException e) {
                    return new Unreadable(ctx, e);
                }
            }
            FSDataInputStream raw;
            try {
                raw = path.getFileSystem().open(path);
            } catch (IOException e) {
                return new Unreadable(ctx, e);
            }
            long length = Math.max(1, split.length());
            if (format == ShardFormat.JSONL && !Compression.isCompressed(name)) { // a byte range of lines
                if (split.offset() > 0) {
                    raw.seek(split.offset() - 1);
                }
                var lines = new LineReader(raw, ctx.options().maxDocumentBytes(), split.offset(),
                        split.offset() + split.length());
                return new JsonLinesDocuments(ctx, raw, lines,
                        () -> Math.min(1, (double) (lines.offset() - split.offset()) / length));
            }
            var counted = new CountingStream(raw);
            InputStream in;
            try {
                in = Compression.decompress(name, counted);
            } catch (IOException | RuntimeException e) { // e.g. not gzip at all: the file stays closed
                raw.close();
                return new Unreadable(ctx, e);
            }
            DoubleSupplier progress = () -> Math.min(1, (double) counted.count / length);
            return format == ShardFormat.TEXT
                    ? new TextDocuments(ctx, in, ctx.options().textMode() == TextMode.FILE, progress)
                    : new JsonLinesDocuments(ctx, in, new LineReader(in, ctx.options().maxDocumentBytes()), progress);
        }

        @Override
        public RecordIterator<CorpusRecord> readBatch() {
            if (ended) {
                return null;
            }
            List<CorpusRecord> batch = new ArrayList<>();
            long batchBytes = 0;
            long firstPosition = emitted;
            while (batch.size() < BATCH_RECORDS && batchBytes < BATCH_BYTES && !ended) {
                CorpusRecord r = next();
                emitted++;
                if (toSkip > 0) { // restoring: these were emitted before the checkpoint
                    toSkip--;
                    firstPosition = emitted;
                    continue;
                }
                batch.add(r.isRejected() && !where.isEmpty() ? r.noting(where) : r);
                batchBytes += r.text() == null ? 64 : r.text().length();
            }
            if (batch.isEmpty()) {
                return null;
            }
            var it = new ArrayResultIterator<CorpusRecord>();
            it.set(batch.toArray(new CorpusRecord[0]), batch.size(), CheckpointedPosition.NO_OFFSET, firstPosition);
            return it;
        }

        /** The next record of the shard; a broken file ends with one rejected record; the end marker last. */
        private CorpusRecord next() {
            if (!broken) {
                try {
                    CorpusRecord r = documents.next();
                    if (r != null) {
                        return r.at(documents.progress());
                    }
                } catch (IOException | RuntimeException e) {
                    broken = true;
                    if (documents instanceof Unreadable) {
                        return ctx.rejected(0, "cannot open shard (" + e.getCause() + "); none of it is read");
                    }
                    long at = documents.position();
                    return ctx.rejected(at + 1, "unreadable after line " + at + " (truncated or corrupt file): " + e);
                }
                broken = true;
            }
            ended = true;
            return ctx.end(documents.position());
        }

        @Override
        public void close() throws IOException {
            documents.close();
        }
    }

    /** Counts the bytes a decompressor takes from the file: how far into a compressed split reading is. */
    private static final class CountingStream extends FilterInputStream {
        private long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            count += b < 0 ? 0 : 1;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            count += Math.max(0, n);
            return n;
        }
    }

    /** A shard that cannot even be opened: one rejected record, then its end. */
    private record Unreadable(ShardContext ctx, Exception cause) implements ShardDocuments {
        @Override
        public CorpusRecord next() throws IOException {
            throw new IOException("cannot open: " + cause.getMessage(), cause);
        }

        @Override
        public long position() {
            return 0;
        }

        @Override
        public double progress() {
            return 0;
        }

        @Override
        public void close() {}
    }
}
