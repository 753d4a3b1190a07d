package dev.sluice.contract.batch;

import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The one definition of Sluice's Arrow batch schema, the contract between pipeline and trainer:
 * {@code tokens: FixedSizeList<Int32>[seq_len+1]} (format 1) or {@code FixedSizeList<UInt16>} (format 2, for
 * vocabularies of at most 65,536 ids), {@code seq_id: Int64}, {@code source: Utf8}, and the {@link BatchMeta} as
 * schema metadata under {@code sluice.*} keys.
 */
public final class BatchSchema {

    public static final String TOKENS = "tokens";
    public static final String SEQ_ID = "seq_id";
    public static final String SOURCE = "source";

    static final String KEY_TOKENIZER = "sluice.tokenizer";
    static final String KEY_VOCAB_SIZE = "sluice.vocab_size";
    static final String KEY_BOS_ID = "sluice.bos_id";
    static final String KEY_EOS_ID = "sluice.eos_id";
    static final String KEY_SEQ_LEN = "sluice.seq_len";
    static final String KEY_FORMAT_VERSION = "sluice.format_version";

    private BatchSchema() {}

    public static Schema of(BatchMeta meta) {
        boolean narrow = meta.formatVersion() == BatchMeta.UINT16_IDS;
        Field item = new Field("item", FieldType.notNullable(new ArrowType.Int(narrow ? 16 : 32, !narrow)), null);
        Field tokens = new Field(TOKENS, FieldType.notNullable(new ArrowType.FixedSizeList(meta.rowLength())),
                List.of(item));
        Field seqId = new Field(SEQ_ID, FieldType.notNullable(new ArrowType.Int(64, true)), null);
        Field source = new Field(SOURCE, FieldType.notNullable(ArrowType.Utf8.INSTANCE), null);
        return new Schema(List.of(tokens, seqId, source), Map.of(
                KEY_TOKENIZER, meta.tokenizer(),
                KEY_VOCAB_SIZE, Integer.toString(meta.vocabSize()),
                KEY_BOS_ID, Integer.toString(meta.bosId()),
                KEY_EOS_ID, Integer.toString(meta.eosId()),
                KEY_SEQ_LEN, Integer.toString(meta.seqLen()),
                KEY_FORMAT_VERSION, Integer.toString(meta.formatVersion())));
    }

    /** Refuses a schema whose fields are not exactly {@link #of}'s for {@code meta} (names, types, nesting). */
    static void requireFields(Schema schema, BatchMeta meta, String where) {
        List<Field> expected = of(meta).getFields();
        if (!schema.getFields().equals(expected)) {
            throw new BadBatchException(where + ": Arrow fields are " + schema.getFields() + ", expected " + expected);
        }
    }

    /** The metadata a schema declares; a clear error when a key is missing or not a number. */
    public static BatchMeta metaOf(Schema schema) {
        Map<String, String> m = schema.getCustomMetadata();
        return new BatchMeta(required(m, KEY_TOKENIZER), number(m, KEY_VOCAB_SIZE), number(m, KEY_BOS_ID),
                number(m, KEY_EOS_ID), number(m, KEY_SEQ_LEN), number(m, KEY_FORMAT_VERSION));
    }

    private static String required(Map<String, String> m, String key) {
        String v = m == null ? null : m.get(key);
        if (v == null) {
            throw new BatchMeta.BatchMismatchException("Arrow batch has no schema metadata '" + key
                    + "': not written by Sluice's BatchSchema");
        }
        return v;
    }

    private static int number(Map<String, String> m, String key) {
        String v = required(m, key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new BatchMeta.BatchMismatchException("Arrow schema metadata '" + key + "' is '" + v + "', not a number");
        }
    }
}
