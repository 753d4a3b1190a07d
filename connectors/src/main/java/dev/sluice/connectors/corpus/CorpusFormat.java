package dev.sluice.connectors.corpus;

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

/**
 * Reads corpus shards (JSON lines or plain text, optionally gzip or zstd; Parquet) for Flink's FileSource.
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

    /** Turns one shard into records: its documents, a rejected record where it breaks, then the end marker. */
    private static final class ShardReader implements Reader<CorpusRecord> {

        private final ShardContext ctx;
        private final ShardDocuments documents;
        private long toSkip;
        private long emitted;
        private boolean broken;
        private boolean ended;

        ShardReader(FileSourceSplit split, Options options, long skip) throws IOException {
            this.ctx = new ShardContext(split.path().toUri().getPath(), OrderedShards.ordinal(split.splitId()), options);
            this.documents = open(split.path(), ctx);
            this.toSkip = skip;
        }

        private static ShardDocuments open(org.apache.flink.core.fs.Path path, ShardContext ctx) throws IOException {
            String name = path.getName();
            ShardFormat format = ShardFormat.of(name);
            if (format == ShardFormat.PARQUET) {
                try {
                    return new ParquetDocuments(ctx, path);
                } catch (IOException | RuntimeException e) {
                    return new Unreadable(ctx, e);
                }
            }
            InputStream raw;
            try {
                raw = path.getFileSystem().open(path);
            } catch (IOException e) {
                return new Unreadable(ctx, e);
            }
            InputStream in;
            try {
                in = Compression.decompress(name, raw);
            } catch (IOException | RuntimeException e) { // e.g. not gzip at all: the file stays closed
                raw.close();
                return new Unreadable(ctx, e);
            }
            return format == ShardFormat.TEXT
                    ? new TextDocuments(ctx, in, ctx.options().textMode() == TextMode.FILE)
                    : new JsonLinesDocuments(ctx, in);
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
                batch.add(r);
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
                        return r;
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
        public void close() {}
    }
}
