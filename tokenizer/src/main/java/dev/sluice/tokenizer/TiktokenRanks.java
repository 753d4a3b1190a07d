package dev.sluice.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/** A {@code .tiktoken} rank file (one {@code base64-token rank} per line) read from a class path resource. */
final class TiktokenRanks {

    private TiktokenRanks() {}

    static Map<byte[], Integer> load(Class<?> owner, String resource, int expected) {
        Map<byte[], Integer> ranks = new HashMap<>(2 * expected);
        InputStream stream = owner.getResourceAsStream(resource);
        if (stream == null) {
            throw new IllegalStateException("resource " + resource + " is missing from " + owner.getName() + "'s jar");
        }
        try (var in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.US_ASCII))) {
            int lineNo = 0;
            for (String line; (line = in.readLine()) != null; ) {
                lineNo++;
                int space = line.indexOf(' ');
                if (space < 0) {
                    throw new IllegalStateException(resource + " line " + lineNo + ": expected 'base64 rank'");
                }
                ranks.put(Base64.getDecoder().decode(line.substring(0, space)), Integer.parseInt(line.substring(space + 1)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
        if (ranks.size() != expected) {
            throw new IllegalStateException(resource + " holds " + ranks.size() + " ranks, expected " + expected);
        }
        return ranks;
    }
}
