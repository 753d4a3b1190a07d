package dev.sluice.connectors.corpus;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;

/** One JSON object per line; the text in the configured field, the id in {@code id} when present. */
final class JsonLinesDocuments extends LineDocuments {

    private static final ObjectMapper JSON = new ObjectMapper();


    JsonLinesDocuments(ShardContext ctx, InputStream in) {
        super(ctx, in);
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
}
