package dev.sluice.contract.batch;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BigIntVector;
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
            BaseFixedWidthVector items = (BaseFixedWidthVector) tokens.getDataVector();
            int total = batch.tokens().length;
            items.allocateNew(total);
            // Bulk copy: one id per token, straight into the data buffer (the per-element setter is 5x slower).
            ArrowBuf data = items.getDataBuffer();
            int[] src = batch.tokens();
            if (meta.formatVersion() == BatchMeta.UINT16_IDS) {
                for (int i = 0; i < total; i++) {
                    data.setShort((long) i * Short.BYTES, src[i]);
                }
            } else {
                for (int i = 0; i < total; i++) {
                    data.setInt((long) i * Integer.BYTES, src[i]);
                }
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
            ByteArrayOutputStream out = new ByteArrayOutputStream(total * meta.idBytes() + 1024);
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
     * Decodes one batch, or refuses it with a {@link BadBatchException} naming {@code where} (topic, partition,
     * offset) and what is wrong: not an Arrow stream, metadata other than {@code expected} (each differing field),
     * vectors other than {@link BatchSchema}'s, vectors shorter than the rows the batch declares, or a token id
     * outside [0, vocab_size). Nothing is read past a buffer's end.
     */
    public TokenBatch decode(byte[] bytes, BatchMeta expected, String where) {
        try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(bytes), allocator)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            BatchMeta meta;
            try {
                meta = BatchSchema.metaOf(root.getSchema());
            } catch (BadBatchException e) {
                throw new BadBatchException(where + ": " + e.getMessage(), e);
            }
            if (expected != null) {
                expected.requireMatches(meta, where);
            }
            BatchSchema.requireFields(root.getSchema(), meta, where);
            if (!reader.loadNextBatch()) {
                throw new BadBatchException(where + ": Arrow stream holds a schema but no record batch");
            }
            return rows(root, meta, where);
        } catch (BadBatchException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new BadBatchException(where + ": not a readable Arrow IPC stream (" + e + ")", e);
        }
    }

    private static TokenBatch rows(VectorSchemaRoot root, BatchMeta meta, String where) {
        int rows = root.getRowCount();
        long total = (long) rows * meta.rowLength();
        BaseFixedWidthVector items = (BaseFixedWidthVector) ((FixedSizeListVector) root.getVector(BatchSchema.TOKENS))
                .getDataVector();
        boolean narrow = meta.formatVersion() == BatchMeta.UINT16_IDS;
        BigIntVector seqIdVector = (BigIntVector) root.getVector(BatchSchema.SEQ_ID);
        VarCharVector sourceVector = (VarCharVector) root.getVector(BatchSchema.SOURCE);
        ArrowBuf data = items.getDataBuffer();
        // Arrow's loader grows each vector to the declared rows, zero-filled: values a record lacks read as nulls
        if (total > Integer.MAX_VALUE || items.getNullCount() + seqIdVector.getNullCount()
                + sourceVector.getNullCount() > 0) {
            throw new BadBatchException(where + ": declares " + rows + " rows of " + meta.rowLength() + " tokens but "
                    + "holds null or missing values (" + items.getNullCount() + " of " + total + " token ids, "
                    + seqIdVector.getNullCount() + " seq_ids, " + sourceVector.getNullCount() + " sources)");
        }
        int[] ids = new int[(int) total];
        for (int i = 0; i < ids.length; i++) {
            int id = narrow ? data.getChar((long) i * Character.BYTES) : data.getInt((long) i * Integer.BYTES);
            if (id < 0 || id >= meta.vocabSize()) {
                throw new BadBatchException(where + ": row " + i / meta.rowLength() + " holds token id " + id
                        + ", outside the vocabulary of " + meta.vocabSize() + " (" + meta.tokenizer() + ")");
            }
            ids[i] = id;
        }
        long[] seqIds = new long[rows];
        String[] sources = new String[rows];
        for (int r = 0; r < rows; r++) {
            seqIds[r] = seqIdVector.get(r);
            sources[r] = new String(sourceVector.get(r), StandardCharsets.UTF_8);
        }
        return new TokenBatch(meta, ids, seqIds, sources);
    }

    /** Only the declared metadata, without decoding the rows (for checking a topic before training). */
    public BatchMeta peekMeta(byte[] bytes, String where) {
        try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(bytes), allocator)) {
            return BatchSchema.metaOf(reader.getVectorSchemaRoot().getSchema());
        } catch (BadBatchException e) {
            throw new BadBatchException(where + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new BadBatchException(where + ": not a readable Arrow IPC stream (" + e + ")", e);
        }
    }

    @Override
    public void close() {
        allocator.close();
    }
}
