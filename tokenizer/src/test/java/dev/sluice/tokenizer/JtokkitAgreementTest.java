package dev.sluice.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our encoder against JTokkit (the reference pattern through java.util.regex, JTokkit's merges) on text no golden
 * case holds: random Unicode, random bytes repaired to U+FFFD, long runs that take the heap merge, the corner cases
 * of each pattern's classes and contractions, and every document of the demo corpus (all its scripts). Also the one
 * definition of a text's bytes: the ids' byte lengths add up to the UTF-8 of the (repaired) text.
 */
class JtokkitAgreementTest {

    /** Code points the patterns treat specially, mixed into the random text. */
    private static final int[] PALETTE = {' ', ' ', ' ', 'a', 'Z', 'e', 's', 't', 'S', 'T', 'r', 'R', 'v', 'l', 'L',
        'm', 'd', 'D', '\'', '\'', '0', '7', '\n', '\r', '\t', 0x0B, 0x0C, 0x85, 0xA0, 0x1680, 0x2007, 0x200B, 0x2028,
        0x2029, 0x202F, 0x3000, 0x017F /* ſ, folds to s */, 0x0130, 0x212A, 0x00E9, 0x0301 /* combining acute */,
        0x0660 /* Arabic-Indic 0 */, 0xFF11 /* fullwidth 1 */, 0x216B /* Roman XII, Nl */, 0x00B2 /* superscript 2, No */,
        0x4E2D, 0x0416, 0x05D0, 0x0E01, 0x1F600 /* emoji */, 0x1D400 /* math bold A, a letter */, 0x10400, '!', '?',
        '.', ',', '-', '/', '"', '(', 0x2019, 0xFFFD, 0x00AD};

    private static void agree(TiktokenTokenizer ours, String text, String what) {
        String valid = ValidText.of(text);
        int[] expected = ours.jtokkit().encodeOrdinary(valid).toArray();
        int[] actual = ours.encode(text);
        assertArrayEquals(expected, actual, () -> ours.name() + ", " + what + ": " + escape(valid));
        int bytes = 0;
        int[] lengths = ours.tokenByteLengths();
        for (int id : actual) {
            bytes += lengths[id];
        }
        assertEquals(valid.getBytes(StandardCharsets.UTF_8).length, bytes, () -> what + ": byte lengths");
        assertEquals(valid, ours.decode(actual), () -> what + ": round trip");
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "marin"})
    void randomUnicodeAndRepairedBytes(String name) {
        TiktokenTokenizer ours = (TiktokenTokenizer) Tokenizers.load(name);
        SplittableRandom random = new SplittableRandom(20261202);
        for (int t = 0; t < 3000; t++) {
            StringBuilder sb = new StringBuilder();
            int length = random.nextInt(1, 60);
            for (int i = 0; i < length; i++) {
                int kind = random.nextInt(10);
                if (kind < 6) {
                    sb.appendCodePoint(PALETTE[random.nextInt(PALETTE.length)]);
                } else if (kind < 8) {
                    sb.appendCodePoint(random.nextInt(0x20, 0x3000));
                } else if (kind < 9) {
                    sb.appendCodePoint(random.nextInt(0x10000, 0x30000));
                } else {
                    sb.append((char) random.nextInt(0xD800, 0xE000)); // an unpaired surrogate, most of the time
                }
            }
            agree(ours, sb.toString(), "random text " + t);
        }
        for (int t = 0; t < 1000; t++) {
            byte[] bytes = new byte[random.nextInt(1, 80)];
            random.nextBytes(bytes);
            agree(ours, new String(bytes, StandardCharsets.UTF_8), "random bytes " + t);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "marin"})
    void longRunsTakeTheHeapMergeAndAgree(String name) {
        TiktokenTokenizer ours = (TiktokenTokenizer) Tokenizers.load(name);
        List<String> runs = List.of(" ".repeat(5000), "\n".repeat(3000), " \n".repeat(2000), "\t \u3000".repeat(900),
                "7".repeat(4000), "1234567890".repeat(300), "!".repeat(2500), "=-".repeat(1500), ".".repeat(600) + "x",
                "a".repeat(3000), "ab".repeat(2000), "\u00e9".repeat(1500), "\u4e2d\u6587".repeat(800),
                "\uD83D\uDE00".repeat(700), "word ".repeat(1000) + " ".repeat(300),
                "x" + " ".repeat(257) + "y" + "\r\n".repeat(200));
        for (String run : runs) {
            agree(ours, run, "a run of " + run.length() + " chars starting " + escape(run.substring(0, 4)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "marin"})
    void everyDocumentOfTheDemoCorpus(String name) throws IOException {
        TiktokenTokenizer ours = (TiktokenTokenizer) Tokenizers.load(name);
        ObjectMapper json = new ObjectMapper();
        List<Path> shards;
        try (Stream<Path> s = Files.list(Path.of("../data/corpus"))) {
            shards = s.filter(p -> p.toString().endsWith(".jsonl.gz")).sorted().toList();
        }
        int documents = 0;
        for (Path shard : shards) {
            try (var in = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(shard)),
                    StandardCharsets.UTF_8))) {
                List<String> texts = new ArrayList<>();
                for (String line; (line = in.readLine()) != null; ) {
                    texts.add(json.readTree(line).get("text").asText());
                }
                for (int i = 0; i < texts.size(); i++) {
                    agree(ours, texts.get(i), shard.getFileName() + " document " + i);
                    documents++;
                }
            }
        }
        assertEquals(2811, documents, "the demo corpus");
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().limit(200).forEach(cp -> sb.append(cp >= 0x20 && cp < 0x7F ? Character.toString(cp)
                : String.format("\\u{%X}", cp)));
        return sb.toString();
    }
}
