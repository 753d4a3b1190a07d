package dev.sluice.contract.batch;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Kafka record values that are not token batches a trainer can use, one of each kind a decoder must refuse, as a
 * stranger's producer might write them (shared with deploy's tests through the test jar).
 */
public final class PoisonRecords {

    private PoisonRecords() {}

    /** Each kind by name, for a batch topic of {@code meta}; {@code good} is a valid batch of the same topic. */
    public static Map<String, byte[]> of(BatchMeta meta, TokenBatch good) {
        Map<String, byte[]> kinds = new LinkedHashMap<>();
        kinds.put("not arrow", "{\"tokens\": [1, 2, 3]}".getBytes(StandardCharsets.UTF_8));
        kinds.put("other vector types", otherTypes(meta));
        kinds.put("more rows declared than carried", lyingRowCount(good));
        int[] ids = good.tokens().clone();
        ids[ids.length - 1] = meta.vocabSize();
        try (var codec = new ArrowBatchCodec()) {
            kinds.put("id outside the vocabulary", codec.encode(new TokenBatch(meta, ids, good.seqIds(), good.sources())));
        }
        return kinds;
    }

    /** The Sluice metadata, but seq_id as Utf8 and the token ids as Int64. */
    private static byte[] otherTypes(BatchMeta meta) {
        Schema sluice = BatchSchema.of(meta);
        Field item = new Field("item", FieldType.notNullable(new ArrowType.Int(64, true)), null);
        Schema schema = new Schema(List.of(
                new Field(BatchSchema.TOKENS, FieldType.notNullable(new ArrowType.FixedSizeList(meta.rowLength())),
                        List.of(item)),
                new Field(BatchSchema.SEQ_ID, FieldType.notNullable(ArrowType.Utf8.INSTANCE), null),
                new Field(BatchSchema.SOURCE, FieldType.notNullable(ArrowType.Utf8.INSTANCE), null)),
                sluice.getCustomMetadata());
        return write(schema, root -> {
            FixedSizeListVector tokens = (FixedSizeListVector) root.getVector(BatchSchema.TOKENS);
            var items = (org.apache.arrow.vector.BigIntVector) tokens.getDataVector();
            for (int i = 0; i < meta.rowLength(); i++) {
                items.setSafe(i, 1);
            }
            items.setValueCount(meta.rowLength());
            tokens.setNotNull(0);
            ((VarCharVector) root.getVector(BatchSchema.SEQ_ID)).setSafe(0, "1".getBytes(StandardCharsets.UTF_8));
            ((VarCharVector) root.getVector(BatchSchema.SOURCE)).setSafe(0, "x".getBytes(StandardCharsets.UTF_8));
            root.setRowCount(1);
        });
    }

    /** {@code good}'s first row, re-framed to declare four rows. */
    private static byte[] lyingRowCount(TokenBatch good) {
        int width = good.meta().rowLength();
        TokenBatch one = new TokenBatch(good.meta(), java.util.Arrays.copyOf(good.tokens(), width),
                new long[] {good.seqIds()[0]}, new String[] {good.sources()[0]});
        byte[] bytes;
        try (var codec = new ArrowBatchCodec()) {
            bytes = codec.encode(one);
        }
        try (var allocator = new RootAllocator();
             var reader = new ArrowStreamReader(new ByteArrayInputStream(bytes), allocator)) {
            reader.loadNextBatch();
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            try (ArrowRecordBatch real = new VectorUnloader(root).getRecordBatch();
                 ArrowRecordBatch lying = new ArrowRecordBatch(4, real.getNodes().stream()
                         .map(n -> new ArrowFieldNode(n.getLength() * 4, 0)).toList(), real.getBuffers())) {
                var out = new ByteArrayOutputStream();
                var channel = new WriteChannel(Channels.newChannel(out));
                MessageSerializer.serialize(channel, root.getSchema());
                MessageSerializer.serialize(channel, lying);
                ArrowStreamWriter.writeEndOfStream(channel, IpcOption.DEFAULT);
                return out.toByteArray();
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private interface Fill {
        void fill(VectorSchemaRoot root);
    }

    private static byte[] write(Schema schema, Fill fill) {
        try (var allocator = new RootAllocator(); var root = VectorSchemaRoot.create(schema, allocator)) {
            root.allocateNew();
            fill.fill(root);
            var out = new ByteArrayOutputStream();
            try (var writer = new ArrowStreamWriter(root, null, out)) {
                writer.start();
                writer.writeBatch();
                writer.end();
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
