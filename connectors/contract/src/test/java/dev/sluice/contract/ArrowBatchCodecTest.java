package dev.sluice.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.contract.batch.ArrowBatchCodec;
import dev.sluice.contract.batch.BadBatchException;
import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.BatchSchema;
import dev.sluice.contract.batch.PoisonRecords;
import dev.sluice.contract.batch.TokenBatch;
import java.io.ByteArrayInputStream;
import java.util.Map;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.junit.jupiter.api.Test;

class ArrowBatchCodecTest {

    static final BatchMeta META = new BatchMeta("gpt2", 50257, 50256, 50256, 4, BatchMeta.UINT16_IDS);

    static TokenBatch batch() {
        int[] tokens = new int[3 * 5];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = i * 1000 + 7;
        }
        return new TokenBatch(META, tokens, new long[] {1L << 32, (1L << 32) | 1, 5}, new String[] {"sotu", "sotu", "kjv"});
    }

    @Test
    void roundTripKeepsEveryField() {
        try (var codec = new ArrowBatchCodec()) {
            TokenBatch in = batch();
            TokenBatch out = codec.decode(codec.encode(in), META, "test");
            assertEquals(META, out.meta());
            assertArrayEquals(in.tokens(), out.tokens());
            assertArrayEquals(in.seqIds(), out.seqIds());
            assertArrayEquals(in.sources(), out.sources());
            assertArrayEquals(new int[] {5007, 6007, 7007, 8007, 9007}, out.row(1));
        }
    }

    @Test
    void theBytesAreAStandardArrowStreamWithTheDocumentedSchema() throws Exception {
        byte[] bytes;
        try (var codec = new ArrowBatchCodec()) {
            bytes = codec.encode(batch());
        }
        try (var alloc = new RootAllocator(); var reader = new ArrowStreamReader(new ByteArrayInputStream(bytes), alloc)) {
            var schema = reader.getVectorSchemaRoot().getSchema();
            assertEquals(new ArrowType.FixedSizeList(5), schema.findField(BatchSchema.TOKENS).getType());
            // gpt2's 50,257 ids fit 16 bits: format 2
            assertEquals(new ArrowType.Int(16, false), schema.findField(BatchSchema.TOKENS).getChildren().get(0).getType());
            assertEquals("2", schema.getCustomMetadata().get("sluice.format_version"));
            assertEquals(new ArrowType.Int(64, true), schema.findField(BatchSchema.SEQ_ID).getType());
            assertEquals(ArrowType.Utf8.INSTANCE, schema.findField(BatchSchema.SOURCE).getType());
            assertEquals("gpt2", schema.getCustomMetadata().get("sluice.tokenizer"));
            assertEquals("4", schema.getCustomMetadata().get("sluice.seq_len"));
            assertTrue(reader.loadNextBatch());
            assertEquals(3, reader.getVectorSchemaRoot().getRowCount());
        }
    }

    @Test
    void aBatchForAnotherTokenizerOrSeqLenIsRefusedNamingTheFields() {
        try (var codec = new ArrowBatchCodec()) {
            byte[] bytes = codec.encode(batch());
            var marin = new BatchMeta("marin", 128256, 128000, 128001, 8, BatchMeta.INT32_IDS);
            var e = assertThrows(BatchMeta.BatchMismatchException.class, () -> codec.decode(bytes, marin, "t/0@12"));
            assertTrue(e.getMessage().startsWith("t/0@12 does not match"), e.getMessage());
            assertTrue(e.getMessage().contains("tokenizer is gpt2, expected marin"), e.getMessage());
            assertTrue(e.getMessage().contains("seq_len is 4, expected 8"), e.getMessage());
        }
    }

    @Test
    void bothFormatsRoundTripAndAReaderTakesEither() throws Exception {
        BatchMeta wide = new BatchMeta("gpt2", 50257, 50256, 50256, 4, BatchMeta.INT32_IDS);
        TokenBatch narrow = batch();
        TokenBatch asInt32 = new TokenBatch(wide, narrow.tokens(), narrow.seqIds(), narrow.sources());
        try (var codec = new ArrowBatchCodec()) {
            byte[] two = codec.encode(narrow);
            byte[] one = codec.encode(asInt32);
            assertTrue(two.length < one.length - narrow.tokens().length, two.length + " vs " + one.length + " bytes");
            // a reader expecting either format reads both, ids equal
            for (BatchMeta expected : new BatchMeta[] {META, wide}) {
                assertArrayEquals(narrow.tokens(), codec.decode(two, expected, "t").tokens());
                assertArrayEquals(narrow.tokens(), codec.decode(one, expected, "t").tokens());
            }
            assertEquals(BatchMeta.INT32_IDS, codec.decode(one, META, "t").meta().formatVersion());
            // ids up to 65,535 survive 16 bits unsigned
            int[] high = narrow.tokens().clone();
            high[0] = 50256;
            var big = new BatchMeta("gpt2", 65536, 50256, 50256, 4, BatchMeta.UINT16_IDS);
            assertEquals(65535, codec.decode(codec.encode(new TokenBatch(big, withLast(high, 65535), narrow.seqIds(),
                    narrow.sources())), big, "t").tokens()[high.length - 1]);
            // a format this reader does not know, or 16 bits for a vocabulary they cannot hold, is refused by name
            var future = new BatchMeta("gpt2", 50257, 50256, 50256, 4, 3);
            var e = assertThrows(BatchMeta.BatchMismatchException.class, () -> META.requireMatches(future, "t/0@1"));
            assertTrue(e.getMessage().contains("format_version is 3, readable: 1 (int32 ids), 2 (uint16 ids"),
                    e.getMessage());
            var marinIn16 = new BatchMeta("marin", 128256, 128000, 128001, 8, BatchMeta.UINT16_IDS);
            assertThrows(BatchMeta.BatchMismatchException.class, () -> new BatchMeta("marin", 128256, 128000, 128001,
                    8, BatchMeta.INT32_IDS).requireMatches(marinIn16, "t/0@2"));
        }
        assertEquals(BatchMeta.UINT16_IDS, BatchMeta.of(dev.sluice.tokenizer.Tokenizers.load("gpt2"), 4).formatVersion());
        assertEquals(BatchMeta.INT32_IDS, BatchMeta.of(dev.sluice.tokenizer.Tokenizers.load("marin"), 4).formatVersion());
    }

    private static int[] withLast(int[] ids, int last) {
        int[] copy = ids.clone();
        copy[copy.length - 1] = last;
        return copy;
    }

    @Test
    void aRowCountThatDoesNotMatchTheTokensIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new TokenBatch(META, new int[7], new long[2], new String[2]));
    }

    @Test
    void eachKindOfBadRecordIsRefusedNamingWhereAndWhat() {
        Map<String, String> expected = Map.of(
                "not arrow", "not a readable Arrow IPC stream",
                "other vector types", "Arrow fields are",
                "more rows declared than carried", "declares 4 rows of 5 tokens but holds null or missing values",
                "id outside the vocabulary", "holds token id 50257, outside the vocabulary of 50257 (gpt2)");
        try (var codec = new ArrowBatchCodec()) {
            Map<String, byte[]> poison = PoisonRecords.of(META, batch());
            assertEquals(expected.keySet(), poison.keySet());
            poison.forEach((kind, bytes) -> {
                var e = assertThrows(BadBatchException.class, () -> codec.decode(bytes, META, "t/1@42"), kind);
                assertTrue(e.getMessage().startsWith("t/1@42: ") && e.getMessage().contains(expected.get(kind)),
                        kind + ": " + e.getMessage());
            });
            assertEquals(3, codec.decode(codec.encode(batch()), META, "t/1@43").size(), "the codec reads on");
        }
    }
}
