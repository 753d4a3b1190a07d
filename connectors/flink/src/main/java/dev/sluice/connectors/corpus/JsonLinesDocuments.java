package dev.sluice.connectors.corpus;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;

/** One JSON object per line; the text in the configured field, the id in {@code id} when present. */
final class JsonLinesDocuments extends LineDocuments {

    /**
     * Without Jackson's default 20 M-character string cap: a line is already bounded by max_document_bytes, and a
     * longer document under that bound is a document, not "malformed JSON".
     */
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder().streamReadConstraints(
            StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build()).build());


    JsonLinesDocuments(ShardContext ctx, InputStream in, LineReader lines, java.util.function.DoubleSupplier progress) {
        super(ctx, in, lines, progress);
    }

    @Override
    public CorpusRecord next() throws IOException {
        while (true) {
            LineReader.Line line = lines.next();
            if (line == null) {
                return null;
            }
            lineNo++;
            if (line.oversized()) {
                return ctx.tooLarge(lineNo, line.length());
            }
            if (!line.isBlank()) { // blank lines between records are not records
                return document(line);
            }
        }
    }

    private CorpusRecord document(LineReader.Line line) {
        if (!mayHideInvalidUtf8(line.bytes(), line.length())) {
            try {
                CorpusRecord r = fromBytes(line.bytes(), line.length());
                if (r != null) {
                    return r;
                }
            } catch (IOException e) {
                // malformed JSON or UTF-8: the strict path below decides what is wrong and says so
            }
        }
        Utf8Text decoded = Utf8Text.decode(line.bytes(), line.length());
        JsonNode node;
        try {
            node = JSON.readTree(decoded.text());
        } catch (JsonProcessingException e) {
            return ctx.rejected(lineNo, "malformed JSON: " + e.getOriginalMessage());
        }
        String field = ctx.options().textField();
        JsonNode text = node == null ? null : node.get(field);
        if (text == null || !text.isTextual()) {
            return ctx.rejected(lineNo, "no string field '" + field + "'");
        }
        if (text.asText().isEmpty()) {
            return ctx.rejected(lineNo, "empty document");
        }
        JsonNode id = node.get("id");
        String docId = id != null && id.isValueNode() ? id.asText() : ctx.shard() + ":" + lineNo;
        return ctx.document(lineNo, docId, text.asText(), decoded.repaired());
    }

    /**
     * The fast path for a well-formed line: Jackson's streaming parser straight from the UTF-8 bytes, no tree and no
     * separate decoding pass (together they were most of a reader's CPU). Returns null when the line is not a
     * document the strict path would accept as is; that path then rejects or repairs it.
     */
    private CorpusRecord fromBytes(byte[] bytes, int length) throws IOException {
        String field = ctx.options().textField();
        String text = null;
        String id = null;
        try (JsonParser p = JSON.getFactory().createParser(bytes, 0, length)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            JsonToken t = p.nextToken();
            for (; t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals(field) && value == JsonToken.VALUE_STRING) {
                    text = p.getText();
                } else if (name.equals("id") && value.isScalarValue()) {
                    id = p.getText();
                } else {
                    if (name.equals(field)) {
                        text = null; // the last of duplicate fields counts, as in a tree
                    }
                    p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT) {
                return null;
            }
        }
        if (text == null || text.isEmpty()) {
            return null;
        }
        return ctx.document(lineNo, id != null ? id : ctx.shard() + ":" + lineNo, text, false);
    }

    /**
     * Bytes that start sequences Jackson decodes without the checks Java's strict UTF-8 decoder makes (overlong
     * forms, surrogates, code points past U+10FFFF); lines with any take the strict path.
     */
    private static boolean mayHideInvalidUtf8(byte[] bytes, int length) {
        for (int i = 0; i < length; i++) {
            int b = bytes[i] & 0xFF;
            if (b >= 0xC0 && (b <= 0xC1 || b == 0xED || b >= 0xF4)) {
                return true;
            }
        }
        return false;
    }
}
