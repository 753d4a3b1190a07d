package dev.sluice.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every case of the golden file, ids from the reference implementations (tiktoken / HF). */
class GoldenTest {

    static final Path GOLDEN = Path.of("../data/golden/tokenizer-golden.jsonl");

    record Case(int line, String text, int[] gpt2, int[] marin, int bytes) {}

    static List<Case> cases() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Case> out = new ArrayList<>();
        int line = 0;
        for (String s : Files.readAllLines(GOLDEN, StandardCharsets.UTF_8)) {
            line++;
            JsonNode n = json.readTree(s);
            out.add(new Case(line, n.get("text").asText(), json.treeToValue(n.get("gpt2"), int[].class),
                    json.treeToValue(n.get("marin"), int[].class), n.get("bytes").asInt()));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "marin"})
    void everyGoldenCaseEncodesExactlyAndRoundTrips(String name) throws IOException {
        Tokenizer tok = Tokenizers.load(name);
        int[] byteLengths = tok.tokenByteLengths();
        List<Case> cases = cases();
        assertEquals(3025, cases.size());
        for (Case c : cases) {
            int[] expected = name.equals("gpt2") ? c.gpt2() : c.marin();
            int[] ids = tok.encode(c.text());
            assertArrayEquals(expected, ids, () -> name + " golden line " + c.line() + ": " + c.text());
            assertEquals(c.text(), tok.decode(ids), () -> name + " round trip, golden line " + c.line());
            int bytes = 0;
            for (int id : ids) {
                bytes += byteLengths[id];
            }
            assertEquals(c.bytes(), bytes, () -> name + " byte table sum, golden line " + c.line());
            assertEquals(c.bytes(), c.text().getBytes(StandardCharsets.UTF_8).length);
        }
    }
}
