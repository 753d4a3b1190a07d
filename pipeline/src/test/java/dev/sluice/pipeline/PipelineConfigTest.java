package dev.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.contract.DataContract;
import dev.sluice.contract.config.YamlConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class PipelineConfigTest {

    @Test
    void theDemoConfigLoads() {
        PipelineConfig c = PipelineConfig.load(Path.of("../configs/pipeline-demo.yaml"));
        assertEquals("sluice.demo.gpt2.train", c.data().trainTopic("gpt2"));
        assertEquals(3, c.sources().size());
        assertEquals(1024, c.data().seqLen());
    }

    @Test
    void tokenizersAreOneNameAListOrCommaSeparatedAndNameTheirTopics() {
        String sources = "sources: [{name: a, paths: [x]}]\n";
        var one = YamlConfig.parse("data: {dataset: d, tokenizer: marin, seq_len: 8}\n" + sources,
                PipelineConfig.class).data();
        var list = YamlConfig.parse("data: {dataset: d, tokenizer: [gpt2, marin], seq_len: 8}\n" + sources,
                PipelineConfig.class).data();
        var comma = YamlConfig.parse("data: {dataset: d, tokenizer: 'gpt2, marin', seq_len: 8}\n" + sources,
                PipelineConfig.class).data();
        assertEquals(List.of("marin"), one.tokenizers());
        assertEquals(List.of("gpt2", "marin"), list.tokenizers());
        assertEquals(list, comma);
        assertEquals(List.of("sluice.d.gpt2.train", "sluice.d.gpt2.val", "sluice.d.marin.train", "sluice.d.marin.val"),
                list.topics());
        assertEquals("sluice.d.hf-my-tok", DataContract.of("d", "hf:/x/my-tok.json", 8).topicPrefix("hf:/x/my-tok.json"));
        var e = assertThrows(YamlConfig.ConfigException.class, () -> YamlConfig.parse(
                "data: {dataset: d, tokenizer: [gpt2, gpt2], seq_len: 8}\n" + sources, PipelineConfig.class));
        assertTrue(e.getMessage().contains("tokenizer must not repeat a name"), e.getMessage());
    }

    @Test
    void aChangedCopyKeepsEveryOtherFieldAndIsCheckedLikeAFile() {
        PipelineConfig c = PipelineConfig.load(Path.of("../configs/pipeline-demo.yaml"));
        PipelineConfig run = c.withData(new DataContract("speedrun-tiny", List.of("gpt2", "marin"), 256));
        assertEquals(new DataContract("speedrun-tiny", List.of("gpt2", "marin"), 256), run.data());
        assertEquals(c.sources(), run.sources());
        assertEquals(c.withData(c.data()), c);
        var e = assertThrows(IllegalArgumentException.class,
                () -> YamlConfig.with(c, java.util.Map.of("shuffle_buffer", -1)));
        assertTrue(e.getMessage().contains("shuffle_buffer must be > 0"), e.getMessage());
    }

    @Test
    void aPipelineRunOnItsOwnNeedsItsDataBlock() {
        var c = YamlConfig.parse("sources: [{name: a, paths: [../data/corpus]}]\n", PipelineConfig.class);
        var e = assertThrows(IllegalArgumentException.class, () -> new TokenizeJob(c));
        assertTrue(e.getMessage().contains("data must be set"), e.getMessage());
        var speedrun = new DataContract("speedrun-x", List.of("gpt2"), 64);
        assertEquals(List.of("sluice.speedrun-x.gpt2.train", "sluice.speedrun-x.gpt2.val"),
                new TokenizeJob(speedrun, c).topics());
    }

    @Test
    void anUnknownFieldIsNamedWithItsLine() {
        var e = assertThrows(YamlConfig.ConfigException.class, () -> YamlConfig.parse(
                "seed: 1\nseq_lne: 12\nsources: [{name: a, paths: [x]}]\n", PipelineConfig.class));
        assertTrue(e.getMessage().contains("seq_lne") && e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void aBadValueIsNamed() {
        String one = "sources: [{name: a, paths: [x]}]\n";
        assertRefused("data: {dataset: d, tokenizer: gpt2, seq_len: -4}\n" + one, "seq_len must be set, > 0 (got -4)");
        assertRefused("data: {dataset: d, tokenizer: gpt2}\n" + one, "seq_len must be set, > 0 (got 0)");
        assertRefused("data: {dataset: 'a b', tokenizer: gpt2, seq_len: 8}\n" + one, "dataset must be letters");
        assertRefused("sources: [{name: a, paths: [x], weight: -1}]\n", "sources[a].weight must be >= 0");
        assertRefused("sources: [{name: a, paths: [x], weight: 0}]\n", "must have a source of weight > 0");
        assertRefused("split_bytes: 100\n" + one, "split_bytes must be at least 65536");
        assertRefused("batch_sequences: 0\n" + one, "batch_sequences must be > 0 (got 0)"); // not a default
        assertRefused("parallelism: 0\n" + one, "parallelism must be > 0 (got 0)");
        assertRefused("data: {dataset: d, tokenizer: gpt2, seq_len: many}\n" + one, "seq_len");
        assertRefused("max_document_bytes: 2147483647\n" + one, "max_document_bytes must be in [1, 1073741824]");
    }

    static void assertRefused(String yaml, String message) {
        var e = assertThrows(YamlConfig.ConfigException.class, () -> YamlConfig.parse(yaml, PipelineConfig.class));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void aBadTokenizerOrCorpusPathFailsBeforeTheJob() {
        var noTok = YamlConfig.parse("data: {dataset: d, tokenizer: llama9, seq_len: 8}\n"
                + "sources: [{name: a, paths: [../data/corpus]}]\n", PipelineConfig.class);
        var e = assertThrows(IllegalArgumentException.class, () -> new TokenizeJob(noTok));
        assertTrue(e.getMessage().contains("unknown tokenizer 'llama9'"), e.getMessage());
        String data = "data: {dataset: d, tokenizer: gpt2, seq_len: 8}\n";
        var noPath = YamlConfig.parse(data + "sources: [{name: a, paths: [../data/nowhere/*.jsonl]}]\n",
                PipelineConfig.class);
        var p = assertThrows(IllegalArgumentException.class, () -> new TokenizeJob(noPath));
        assertTrue(p.getMessage().contains("../data/nowhere/*.jsonl"), p.getMessage());
        var remote = YamlConfig.parse(data + "sources: [{name: a, paths: [\"s3://bucket/fineweb/*.parquet\"]}]\n",
                PipelineConfig.class);
        var r = assertThrows(IllegalArgumentException.class, () -> new TokenizeJob(remote));
        assertTrue(r.getMessage().contains("corpus path 's3://bucket/fineweb/*.parquet': shards are listed on a local "
                + "or mounted file system"), r.getMessage());
    }
}
