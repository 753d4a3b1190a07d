package dev.sluice.connectors.batch;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;

/**
 * {@link TokenBatch} to Arrow IPC stream bytes (schema + one RecordBatch, self-describing) and back.
 * Not thread-safe: one codec per task. Close it to free its off-heap allocator.
 */
public final class ArrowBatchCodec implements AutoCloseable {

    private final BufferAllocator allocator = new RootAllocator();

    public byte[] encode(TokenBatch batch) {
        BatchMeta meta = batch.meta();
        int rows = batch.size();
        try (VectorSchemaRoot root = VectorSchemaRoot.create(BatchSchema.of(meta), allocator)) {
            FixedSizeListVector tokens = (FixedSizeListVector) root.getVector(BatchSchema.TOKENS);
            BigIntVector seqIds = (BigIntVector) root.getVector(BatchSchema.SEQ_ID);
            VarCharVector sources = (VarCharVector) root.getVector(BatchSchema.SOURCE);
            root.allocateNew();
            IntVector items = (IntVector) tokens.getDataVector();
            int total = batch.tokens().length;
            items.allocateNew(total);
            // Bulk copy: one int per token, straight into the data buffer (the per-element setter is 5x slower).
            ArrowBuf data = items.getDataBuffer();
            int[] src = batch.tokens();
            for (int i = 0; i < total; i++) {
                data.setInt((long) i * Integer.BYTES, src[i]);
            }
            ArrowBuf validity = items.getValidityBuffer();
            validity.setOne(0, (total + 7) / 8);
            items.setValueCount(total);
            for (int r = 0; r < rows; r++) {
                tokens.setNotNull(r);
                seqIds.setSafe(r, batch.seqIds()[r]);
                sources.setSafe(r, batch.sources()[r].getBytes(StandardCharsets.UTF_8));
            }
            root.setRowCount(rows);
            ByteArrayOutputStream out = new ByteArrayOutputStream(total * Integer.BYTES + 1024);
            try (ArrowStreamWriter writer = new ArrowStreamWriter(root, null, out)) {
                writer.start();
                writer.writeBatch();
                writer.end();
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("encoding an Arrow token batch", e);
        }
    }

    /**
     * Decodes one batch, refusing it (with a message naming each differing field) unless its schema metadata
     * equals {@code expected}; {@code where} names the record in that message (topic, partition, offset).
     */
    public TokenBatch decode(byte[] bytes, BatchMeta expected, String where) {
        try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(bytes), allocator)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            BatchMeta meta = BatchSchema.metaOf(root.getSchema());
            if (expected != null) {
                expected.requireMatches(meta, where);
            }
            if (!reader.loadNextBatch()) {
                throw new IllegalStateException(where + ": Arrow stream holds a schema but no record batch");
            }
            int rows = root.getRowCount();
            FixedSizeListVector tokens = (FixedSizeListVector) root.getVector(BatchSchema.TOKENS);
            IntVector items = (IntVector) tokens.getDataVector();
            int total = rows * meta.rowLength();
            int[] ids = new int[total];
            ArrowBuf data = items.getDataBuffer();
            for (int i = 0; i < total; i++) {
                ids[i] = data.getInt((long) i * Integer.BYTES);
            }
            BigIntVector seqIdVector = (BigIntVector) root.getVector(BatchSchema.SEQ_ID);
            VarCharVector sourceVector = (VarCharVector) root.getVector(BatchSchema.SOURCE);
            long[] seqIds = new long[rows];
            String[] sources = new String[rows];
            for (int r = 0; r < rows; r++) {
                seqIds[r] = seqIdVector.get(r);
                sources[r] = new String(sourceVector.get(r), StandardCharsets.UTF_8);
            }
            return new TokenBatch(meta, ids, seqIds, sources);
        } catch (IOException e) {
            throw new UncheckedIOException(where + ": not a readable Arrow IPC stream", e);
        }
    }

    /** Only the declared metadata, without decoding the rows (for checking a topic before training). */
    public BatchMeta peekMeta(byte[] bytes, String where) {
        try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(bytes), allocator)) {
            return BatchSchema.metaOf(reader.getVectorSchemaRoot().getSchema());
        } catch (IOException e) {
            throw new UncheckedIOException(where + ": not a readable Arrow IPC stream", e);
        }
    }

    @Override
    public void close() {
        allocator.close();
    }
}
