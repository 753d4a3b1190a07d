package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * The tiny config, shortened, trained on CPU on the demo corpus (tokenized locally): validation loss falls well
 * below the unigram baseline, no NaN, resident memory flat across steps.
 */
class TinyTrainingTest {

    static List<String> corpus() throws Exception {
        List<String> texts = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        List<Path> shards;
        try (Stream<Path> s = Files.list(Path.of("../../data/corpus"))) {
            shards = s.sorted().toList();
        }
        for (Path shard : shards) {
            try (var in = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(shard)),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    texts.add(json.readTree(line).get("text").asText());
                }
            }
        }
        return texts;
    }

    static long residentKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS");
    }

    @Test
    void validationLossFallsWellBelowTheUnigramBaselineInFloat32AndBfloat16() throws Exception {
        Tokenizer gpt2 = Tokenizers.load("gpt2");
        List<String> docs = corpus();
        List<String> train = new ArrayList<>();
        List<String> val = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            (i % 40 == 0 ? val : train).add(docs.get(i));
        }
        SpeedrunConfig tiny = SpeedrunConfig.load(Path.of("../../configs/speedrun/tiny.yaml"));
        SpeedrunConfig config = new SpeedrunConfig(tiny.name(), tiny.data(), tiny.model(), withTokens(tiny.train(), 40 * 8 * 256));
        int seqLen = config.seqLen();
        List<int[]> trainRows = TextRows.of(gpt2, train.subList(0, 600), seqLen);
        List<int[]> valRows = TextRows.of(gpt2, val, seqLen).subList(0, 32);

        double unigram = unigramCrossEntropy(trainRows, valRows, config.model().vocabSize());
        Trainer.EvalResult fp32 = train(config, gpt2, trainRows, valRows, unigram);
        Trainer.EvalResult bf16 = train(config.withTrain(Map.of("dtype", "bfloat16")), gpt2, trainRows, valRows, unigram);
        // the same data and seed: bf16 compute ends within 2% of float32's bits per byte
        assertEquals(fp32.bitsPerByte(), bf16.bitsPerByte(), 0.02 * fp32.bitsPerByte(), "bf16 vs fp32 bpb");
        assertNotEquals(fp32.bitsPerByte(), bf16.bitsPerByte(), "the bf16 run computed in bf16");
    }

    static Trainer.EvalResult train(SpeedrunConfig config, Tokenizer tokenizer, List<int[]> trainRows,
                                    List<int[]> valRows, double unigram) throws Exception {
        try (Trainer t = new Trainer(config, tokenizer)) {
            double before = t.evaluate(valRows, 16).loss();
            int next = 0;
            long rssAtStep10 = 0;
            while (!t.done()) {
                List<int[]> batch = new ArrayList<>();
                for (int i = 0; i < t.nextBatchSize(); i++) {
                    batch.add(trainRows.get(next++ % trainRows.size()));
                }
                Trainer.StepResult r = t.step(batch);
                assertTrue(Double.isFinite(r.loss()), "loss at step " + r.step());
                if (r.step() == 10) {
                    rssAtStep10 = residentKb();
                }
            }
            long rssAtEnd = residentKb();
            Trainer.EvalResult after = t.evaluate(valRows, 16);
            System.out.printf("%s: steps %d, val loss %.3f -> %.3f nats, unigram %.3f, bpb %.4f, RSS %d -> %d MB%n",
                    config.train().dtype(), t.step(), before, after.loss(), unigram, after.bitsPerByte(),
                    rssAtStep10 >> 10, rssAtEnd >> 10);
            assertTrue(after.loss() < unigram - 0.5, "val loss " + after.loss() + " vs unigram " + unigram);
            assertTrue(after.bitsPerByte() > 0 && Double.isFinite(after.bitsPerByte()));
            assertTrue(rssAtEnd < rssAtStep10 * 1.15 + 150_000, "RSS " + rssAtStep10 + " kB -> " + rssAtEnd + " kB");
            return after;
        }
    }

    static TrainConfig withTokens(TrainConfig t, long tokens) {
        return YamlConfig.with(t, Map.of("train_tokens", tokens, "tokens_per_param", YamlConfig.LEFT_OUT,
                "batch_schedule", List.of(8), "muon_momentum_warmup_steps", 10));
    }

    /** Cross-entropy (nats) of the validation targets under the training tokens' unigram distribution (add-one). */
    static double unigramCrossEntropy(List<int[]> train, List<int[]> val, int vocab) {
        double[] counts = new double[vocab];
        double total = 0;
        for (int[] row : train) {
            for (int j = 1; j < row.length; j++) {
                counts[row[j]]++;
                total++;
            }
        }
        double nats = 0;
        long n = 0;
        for (int[] row : val) {
            for (int j = 1; j < row.length; j++) {
                nats -= Math.log((counts[row[j]] + 1) / (total + vocab));
                n++;
            }
        }
        return nats / n;
    }
}
