package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** JSON lines in, JSON lines out: {@code {"text": ...}} to {@code {"ids": [...], "bytes": N}}, or back with --decode. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Reads JSON lines {\"text\": ...} on stdin and writes {\"ids\": [...], \"bytes\": N} per line "
                + "(N = the UTF-8 bytes the ids stand for, as bits-per-byte counts them; an unpaired surrogate "
                + "counts as U+FFFD's 3).",
                "With --decode, reads {\"ids\": [...]} and writes {\"text\": ...}.",
                "A bad line is reported on stderr with its line number and skipped; the exit code is then 1."})
final class TokenizeCommand implements Callable<Integer> {

    @Option(names = "--tokenizer", required = true, description = "gpt2, marin or hf:<path to tokenizer.json>")
    String tokenizer;

    @Option(names = "--decode", description = "ids to text instead of text to ids")
    boolean decode;

    @Override
    public Integer call() throws Exception {
        Tokenizer tok = Tokenizers.load(tokenizer);
        ObjectMapper json = new ObjectMapper();
        var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        var out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        var err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        long lineNo = 0;
        int errors = 0;
        for (String line; (line = in.readLine()) != null; ) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            try {
                ObjectNode result = decode ? decodeLine(tok, json, line) : encodeLine(tok, json, line);
                out.write(json.writeValueAsString(result));
                out.write('\n');
            } catch (Exception e) {
                errors++;
                err.println("stdin line " + lineNo + ": " + e.getMessage());
            }
        }
        out.flush();
        return errors == 0 ? 0 : 1;
    }

    private static ObjectNode encodeLine(Tokenizer tok, ObjectMapper json, String line) throws Exception {
        JsonNode text = readObject(json, line).get("text");
        if (text == null || !text.isTextual()) {
            throw new IllegalArgumentException("field 'text' is missing or not a string");
        }
        int[] ids = tok.encode(text.asText());
        ObjectNode result = json.createObjectNode();
        ArrayNode arr = result.putArray("ids");
        for (int id : ids) {
            arr.add(id);
        }
        result.put("bytes", tok.byteCount(ids)); // what bits-per-byte counts: "\ud800" is U+FFFD's 3 bytes
        return result;
    }

    private static ObjectNode decodeLine(Tokenizer tok, ObjectMapper json, String line) throws Exception {
        JsonNode ids = readObject(json, line).get("ids");
        if (ids == null || !ids.isArray()) {
            throw new IllegalArgumentException("field 'ids' is missing or not an array");
        }
        int[] arr = new int[ids.size()];
        for (int i = 0; i < arr.length; i++) {
            if (!ids.get(i).canConvertToInt()) {
                throw new IllegalArgumentException("ids[" + i + "] is not an integer: " + ids.get(i));
            }
            arr[i] = ids.get(i).asInt();
        }
        return json.createObjectNode().put("text", tok.decode(arr));
    }

    private static JsonNode readObject(ObjectMapper json, String line) throws Exception {
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("malformed JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("expected a JSON object");
        }
        return node;
    }
}
