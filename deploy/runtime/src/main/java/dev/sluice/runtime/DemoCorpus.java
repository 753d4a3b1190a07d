package dev.sluice.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.contract.config.SluiceHome;
import dev.sluice.connectors.corpus.Compression;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The demo corpus shipped in data/corpus, and its texts for benchmarks. */
public final class DemoCorpus {

    private DemoCorpus() {}

    public static Path corpusDir() {
        return SluiceHome.resolve("data/corpus");
    }

    /**
     * The {@code text} field of every document in the JSON-lines shards of {@code dir} ({@code .jsonl}, {@code .gz}
     * or {@code .zst}), in shard order.
     */
    public static List<String> texts(Path dir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> texts = new ArrayList<>();
        List<Path> shards;
        try (Stream<Path> files = Files.list(dir)) {
            shards = files.filter(p -> p.toString().matches(".*\\.jsonl(\\.gz|\\.zst)?")).sorted().toList();
        }
        if (shards.isEmpty()) {
            throw new IOException("no .jsonl, .jsonl.gz or .jsonl.zst shards in " + dir);
        }
        for (Path shard : shards) {
            try (var raw = Compression.decompress(shard.toString(), Files.newInputStream(shard));
                 var in = new BufferedReader(new InputStreamReader(raw, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    JsonNode text = json.readTree(line).get("text");
                    if (text != null) {
                        texts.add(text.asText());
                    }
                }
            }
        }
        return texts;
    }
}
