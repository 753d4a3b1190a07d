package dev.sluice.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.runtime.DemoCorpus;
import dev.sluice.runtime.Infrastructure;
import dev.sluice.runtime.PipelineRunner;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.io.BufferedInputStream;
import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Shards far larger than the heap through the TokenizeJob: writes N JSON-lines shards of M MB (runs of words from
 * the demo corpus, so they tokenize like prose), runs the job in a child JVM with a small heap (embedded broker and
 * MiniCluster, as {@code bin/sluice pipeline}), and compares its sequence count with one computed here without
 * Flink. Prints the child's peak resident memory and what its samplers held at most.
 */
public final class ShardBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SEQ_LEN = 1024;

    private ShardBench() {}

    public static int run(int shards, int shardMb, String heap, String tokenizer, int parallelism) throws Exception {
        Path dir = Files.createTempDirectory("sluice-shards");
        try {
            writeShards(dir, shards, shardMb);
            Path config = dir.resolve("pipeline.yaml");
            Files.writeString(config, """
                    data: {dataset: bench-shards, tokenizer: "%s", seq_len: %d}
                    packing: concat
                    val_fraction: 0
                    parallelism: %d
                    sources: [{name: big, paths: ["%s/*.jsonl"]}]
                    """.formatted(tokenizer, SEQ_LEN, parallelism, dir));
            PipelineConfig pipeline = YamlConfig.load(config, PipelineConfig.class);
            Path out = dir.resolve("summary.json");
            long start = System.nanoTime();
            ChildJvm.run(ShardBench.class, List.of("-Xmx" + heap), config.toString(), out.toString());
            double seconds = (System.nanoTime() - start) / 1e9;
            JsonNode child = JSON.readTree(out.toFile());
            JsonNode train = child.get("summary").get("topics").get(pipeline.data().topic("train"));
            long reference = referenceSequences(dir, pipeline.splitBytes(), Tokenizers.load(tokenizer));
            ObjectNode r = JSON.createObjectNode();
            r.put("shards", shards);
            r.put("shard_mb", shardMb);
            r.put("split_mb", pipeline.splitBytes() >> 20);
            r.put("heap", heap);
            r.put("parallelism", parallelism);
            r.put("seconds", Math.round(seconds * 10) / 10.0);
            r.put("peak_rss_mb", child.get("peak_rss_bytes").asLong() >> 20);
            r.put("sequences", train.get("sequences").asLong());
            r.put("reference_sequences", reference);
            r.put("sampler_peak_waiting_mb", train.get("sampler_peak_waiting_bytes").asLong() / 1e6);
            r.put("sampler_peak_state_mb", train.get("sampler_peak_state_bytes").asLong() / 1e6);
            System.out.println(r);
            return train.get("sequences").asLong() == reference ? 0 : 1;
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** The child: {@code CONFIG OUT}; runs the job and writes its summary with this JVM's peak resident size. */
    public static void main(String[] args) throws Exception {
        PipelineConfig config = YamlConfig.load(Path.of(args[0]), PipelineConfig.class);
        ObjectNode summary;
        try (Infrastructure infra = Infrastructure.builder().slots(config.parallelism() + 3).start()) {
            summary = PipelineRunner.of(new TokenizeJob(config), infra).start().awaitSummary();
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("summary", summary);
        out.put("peak_rss_bytes", MemoryBench.residentBytes("VmHWM"));
        Files.writeString(Path.of(args[1]), out.toString());
        System.exit(0); // the MiniCluster and broker leave non-daemon threads behind
    }

    private static void writeShards(Path dir, int shards, int shardMb) throws IOException {
        List<String> words = new ArrayList<>();
        for (String text : DemoCorpus.texts(DemoCorpus.corpusDir())) {
            words.addAll(List.of(text.split("\\s+")));
            if (words.size() > 1_000_000) {
                break;
            }
        }
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < shards; i++) {
            try (BufferedWriter out = Files.newBufferedWriter(dir.resolve("big-%05d.jsonl".formatted(i)))) {
                long bytes = 0;
                for (int doc = 0; bytes < (long) shardMb << 20; doc++) {
                    int n = random.nextInt(50, 3000);
                    int from = random.nextInt(words.size() - n);
                    ObjectNode line = JSON.createObjectNode();
                    line.put("id", "big" + i + "-" + doc);
                    line.put("text", String.join(" ", words.subList(from, from + n)));
                    String s = JSON.writeValueAsString(line) + "\n";
                    out.write(s);
                    bytes += s.getBytes(StandardCharsets.UTF_8).length;
                }
            }
        }
    }

    /**
     * Without Flink: a document belongs to the split holding its line's first byte, and concat packing cuts each
     * split's stream of [BOS] + ids into seq_len+1 windows, dropping the tail.
     */
    static long referenceSequences(Path dir, long splitBytes, Tokenizer tokenizer) throws IOException {
        long sequences = 0;
        List<Path> files;
        try (var list = Files.list(dir)) {
            files = list.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList();
        }
        for (Path file : files) {
            Map<Long, Long> tokensPerSplit = new TreeMap<>();
            try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
                var line = new ByteArrayOutputStream();
                long offset = 0;
                long lineStart = 0;
                for (int b; (b = in.read()) >= 0; offset++) {
                    if (b != '\n') {
                        line.write(b);
                        continue;
                    }
                    String text = JSON.readTree(line.toString(StandardCharsets.UTF_8)).get("text").asText();
                    tokensPerSplit.merge(lineStart / splitBytes, 1L + tokenizer.encode(text).length, Long::sum);
                    line.reset();
                    lineStart = offset + 1;
                }
            }
            for (long tokens : tokensPerSplit.values()) {
                sequences += tokens / (SEQ_LEN + 1);
            }
        }
        return sequences;
    }
}
