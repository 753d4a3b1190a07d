package dev.sluice.bench;

import dev.sluice.contract.config.SluiceHome;
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
 * Encode throughput in MB/s of UTF-8 text, ours against two references measured in the same run on the same text:
 * JTokkit (the fastest JVM BPE we know, and the reference our encoder agrees with id for id; the goal is 2x it per
 * core) and DJL's Rust Hugging Face tokenizer with the equivalent tokenizer.json. Single thread, then with every
 * core (one thread per core, each encoding its share of the documents), where the figure per core is the total over
 * the cores.
 */
public final class TokenizerBenchmark {

    /** One tokenizer's figures in MB/s: single thread, and per core with all cores busy. */
    public record Result(String tokenizer, double oursMBps, double jtokkitMBps, double rustHfMBps, double oursAllCores,
                         double jtokkitAllCores, int cores, long tokens, long bytes) {
        public double ratioToJtokkit() {
            return oursMBps / jtokkitMBps;
        }

        public double ratioToJtokkitAllCores() {
            return oursAllCores / jtokkitAllCores;
        }

        public double ratioToRustHf() {
            return oursMBps / rustHfMBps;
        }

        /** The JSON line {@code bin/sluice bench tokenizer} prints. */
        public String json() {
            return String.format(Locale.ROOT, "{\"tokenizer\": \"%s\", \"mb_per_s\": %.2f, \"jtokkit_mb_per_s\": %.2f, "
                    + "\"ratio_to_jtokkit\": %.3f, \"hf_mb_per_s\": %.2f, \"cores\": %d, "
                    + "\"mb_per_s_per_core_all_cores\": %.2f, \"jtokkit_mb_per_s_per_core_all_cores\": %.2f, "
                    + "\"ratio_to_jtokkit_all_cores\": %.3f, \"tokens\": %d, \"bytes\": %d}", tokenizer, oursMBps,
                    jtokkitMBps, ratioToJtokkit(), rustHfMBps, cores, oursAllCores, jtokkitAllCores,
                    ratioToJtokkitAllCores(), tokens, bytes);
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

    /** {@code sluice bench tokenizer}: gpt2 and marin on the corpus in {@code dir}, a table and a JSON line each. */
    public static int run(Path dir, int maxMb, int repeats) throws Exception {
        List<String> texts = DemoCorpus.texts(dir);
        if (maxMb > 0) {
            texts = upTo(texts, (long) maxMb << 20);
        }
        var bench = new TokenizerBenchmark(texts, repeats);
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf(Locale.ROOT, "text: %d documents, %.1f MB UTF-8 from %s; best of %d passes; all cores = %d%n",
                texts.size(), bench.bytes() / 1e6, dir, repeats, cores);
        Path tokenizers = SluiceHome.dir().resolve("data/tokenizers");
        List<Result> results = new ArrayList<>();
        for (String name : List.of("gpt2", "marin")) {
            var r = bench.measure(name, tokenizers.resolve(name + "-tokenizer.json"));
            results.add(r);
            System.out.printf(Locale.ROOT,
                    "%-6s 1 thread: ours %6.1f MB/s | JTokkit %6.1f MB/s | ours / JTokkit = %.2fx | Rust HF (DJL) %5.2f "
                            + "MB/s | ours / Rust HF = %.1fx%n       %d cores: ours %6.1f MB/s per core | JTokkit %6.1f "
                            + "MB/s per core | ours / JTokkit = %.2fx | %d tokens%n",
                    name, r.oursMBps(), r.jtokkitMBps(), r.ratioToJtokkit(), r.rustHfMBps(), r.ratioToRustHf(), cores,
                    r.oursAllCores(), r.jtokkitAllCores(), r.ratioToJtokkitAllCores(), r.tokens());
        }
        results.forEach(r -> System.out.println(r.json()));
        return 0;
    }

    public long bytes() {
        return bytes;
    }

    /**
     * Measures tokenizer {@code name} ({@code gpt2} or {@code marin}) against JTokkit and the Rust HF tokenizer
     * loaded from {@code hfTokenizerJson}. Each figure is the best of {@code repeats} passes after one warm-up
     * pass; the contenders are interleaved pass by pass so that machine noise hits them alike.
     */
    public Result measure(String name, Path hfTokenizerJson) throws InterruptedException {
        TiktokenTokenizer ours = (TiktokenTokenizer) Tokenizers.load(name);
        var jtokkit = ours.jtokkit();
        Tokenizer rust = Tokenizers.load("hf:" + hfTokenizerJson);
        Map<String, ToIntFunction<String>> contenders = new LinkedHashMap<>();
        contenders.put("ours", t -> ours.encode(t).length);
        contenders.put("jtokkit", t -> jtokkit.encodeOrdinary(t).size());
        contenders.put("rust-hf", t -> rust.encode(t).length);
        Map<String, Double> best = new LinkedHashMap<>();
        long tokens = 0;
        int cores = Runtime.getRuntime().availableProcessors();
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
            for (String key : List.of("ours", "jtokkit")) {
                double seconds = allCores(contenders.get(key), cores);
                if (pass > 0) {
                    best.merge(key + "-all", bytes / 1e6 / seconds / cores, Math::max);
                }
            }
        }
        return new Result(name, best.get("ours"), best.get("jtokkit"), best.get("rust-hf"), best.get("ours-all"),
                best.get("jtokkit-all"), cores, tokens, bytes);
    }

    /** Seconds for {@code cores} threads to encode the texts, thread k taking every cores-th document from k. */
    private double allCores(ToIntFunction<String> encode, int cores) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int k = 0; k < cores; k++) {
            int first = k;
            Thread t = new Thread(() -> {
                for (int i = first; i < texts.size(); i += cores) {
                    encode.applyAsInt(texts.get(i));
                }
            }, "bench-encode-" + k);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        return (System.nanoTime() - start) / 1e9;
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
