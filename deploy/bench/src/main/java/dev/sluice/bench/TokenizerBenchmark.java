package dev.sluice.bench;

import dev.sluice.connectors.config.SluiceHome;
import dev.sluice.runtime.DemoCorpus;
import dev.sluice.tokenizer.TiktokenTokenizer;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Single-thread encode throughput in MB/s of UTF-8 text, ours against two references measured in the same
 * run on the same text: bare JTokkit (what our wrapper costs) and DJL's Rust Hugging Face tokenizer with the
 * equivalent tokenizer.json (the speed goal is at least 10x that).
 */
public final class TokenizerBenchmark {

    /** One tokenizer's figures: MB/s of ours, of bare JTokkit and of the Rust HF tokenizer, and tokens seen. */
    public record Result(String tokenizer, double oursMBps, double jtokkitMBps, double rustHfMBps, long tokens,
                         long bytes) {
        public double ratioToRustHf() {
            return oursMBps / rustHfMBps;
        }

        public double wrapperCost() {
            return 1 - oursMBps / jtokkitMBps;
        }
    }

    private final List<String> texts;
    private final long bytes;
    private final int repeats;

    public TokenizerBenchmark(List<String> texts, int repeats) {
        this.texts = List.copyOf(texts);
        this.bytes = texts.stream().mapToLong(t -> t.getBytes(StandardCharsets.UTF_8).length).sum();
        this.repeats = repeats;
    }

    /** {@code sluice bench tokenizer}: gpt2 and marin on the corpus in {@code dir}, one line each. */
    public static int run(Path dir, int maxMb, int repeats) throws Exception {
        List<String> texts = DemoCorpus.texts(dir);
        if (maxMb > 0) {
            texts = upTo(texts, (long) maxMb << 20);
        }
        var bench = new TokenizerBenchmark(texts, repeats);
        System.out.printf(Locale.ROOT, "text: %d documents, %.1f MB UTF-8 from %s; single thread, best of %d%n",
                texts.size(), bench.bytes() / 1e6, dir, repeats);
        Path tokenizers = SluiceHome.dir().resolve("data/tokenizers");
        for (String name : List.of("gpt2", "marin")) {
            var r = bench.measure(name, tokenizers.resolve(name + "-tokenizer.json"));
            System.out.printf(Locale.ROOT,
                    "%-6s ours %6.1f MB/s | bare JTokkit %6.1f MB/s (wrapper cost %+.1f%%) | Rust HF (DJL) %5.2f MB/s"
                            + " | ours / Rust HF = %.1fx | %d tokens%n",
                    name, r.oursMBps(), r.jtokkitMBps(), 100 * r.wrapperCost(), r.rustHfMBps(), r.ratioToRustHf(),
                    r.tokens());
        }
        return 0;
    }

    public long bytes() {
        return bytes;
    }

    /**
     * Measures tokenizer {@code name} ({@code gpt2} or {@code marin}) against the Rust HF tokenizer loaded
     * from {@code hfTokenizerJson}. Each figure is the best of {@code repeats} passes after one warm-up pass;
     * the three are interleaved pass by pass so that machine noise hits them alike.
     */
    public Result measure(String name, Path hfTokenizerJson) {
        TiktokenTokenizer ours = (TiktokenTokenizer) Tokenizers.load(name);
        var jtokkit = ours.jtokkit();
        Tokenizer rust = Tokenizers.load("hf:" + hfTokenizerJson);
        Map<String, ToIntFunction<String>> contenders = new LinkedHashMap<>();
        contenders.put("ours", t -> ours.encode(t).length);
        contenders.put("jtokkit", t -> jtokkit.encodeOrdinary(t).size());
        contenders.put("rust-hf", t -> rust.encode(t).length);
        Map<String, Double> best = new LinkedHashMap<>();
        long tokens = 0;
        for (int pass = 0; pass <= repeats; pass++) {
            for (var c : contenders.entrySet()) {
                long start = System.nanoTime();
                long n = 0;
                for (String t : texts) {
                    n += c.getValue().applyAsInt(t);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                if (c.getKey().equals("ours")) {
                    tokens = n;
                }
                if (pass > 0) {
                    best.merge(c.getKey(), bytes / 1e6 / seconds, Math::max);
                }
            }
        }
        return new Result(name, best.get("ours"), best.get("jtokkit"), best.get("rust-hf"), tokens, bytes);
    }

    /** Texts for a benchmark: the given documents, trimmed to at most {@code maxBytes} in total. */
    public static List<String> upTo(List<String> documents, long maxBytes) {
        List<String> out = new ArrayList<>();
        long total = 0;
        for (String d : documents) {
            if (total >= maxBytes) {
                break;
            }
            out.add(d);
            total += d.getBytes(StandardCharsets.UTF_8).length;
        }
        return out;
    }
}
