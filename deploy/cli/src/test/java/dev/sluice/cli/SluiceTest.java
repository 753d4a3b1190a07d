package dev.sluice.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The CLI run in-process as {@code bin/sluice} runs it: what it prints, and the one line a mistake gets. */
class SluiceTest {

    /** What a command printed and returned. */
    record Run(int exit, String out, String err) {}

    @BeforeAll
    static void home() {
        System.setProperty("sluice.home", Path.of("../..").toAbsolutePath().normalize().toString());
    }

    static Run run(String... args) {
        CommandLine cli = Sluice.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int exit = cli.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(stdout);
        }
    }

    @Test
    void flopsPrintsLevantersFigureFor270m() throws Exception {
        Run r = run("flops", "--config", "270m");
        assertEquals(0, r.exit(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(422_326_272L, json.get("flops_per_token").asLong(), "Levanter's lm_flops_per_token for the seed's 270m");
        assertEquals(2048, json.get("seq_len").asInt(), "from the config's data: block");
        assertEquals("marin", json.get("tokenizer").asText());
        assertEquals(128_256, json.get("vocab_size").asInt());
    }

    @Test
    void aMistakeIsOneLineNamingWhatAndWhere() {
        Run missing = run("flops", "--config", "nosuch");
        assertEquals(2, missing.exit());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertTrue(missing.err().startsWith("sluice flops: config file ") && missing.err().contains("nosuch.yaml"),
                missing.err());

        Run badValue = run("bench", "trainer", "--steps", "many");
        assertEquals(2, badValue.exit());
        assertTrue(badValue.err().contains("Invalid value for option '--steps': 'many' is not an int"), badValue.err());

        Run unknown = run("bench", "trainr");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("trainr"), unknown.err());
    }

    @Test
    void aBadTokenizerFailsThePipelineBeforeAnythingStarts() {
        Run r = run("pipeline", "--config", "../../configs/pipeline-demo.yaml", "--tokenizer", "llama9");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("sluice pipeline: ") && r.err().contains("unknown tokenizer 'llama9'"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void benchIsOneCommandPerBenchmark() {
        CommandLine bench = Sluice.commandLine().getSubcommands().get("bench");
        assertEquals(List.of("tokenizer", "pipeline", "trainer", "memory", "datawait", "shards"),
                List.copyOf(bench.getSubcommands().keySet()));
        CommandLine.ParseResult parsed = Sluice.commandLine().parseArgs("bench", "trainer", "--config", "tiny",
                "--dtype", "bfloat16", "--allocators", "system,tcmalloc");
        BenchCommand.Trainer trainer = (BenchCommand.Trainer) parsed.subcommand().subcommand().commandSpec().userObject();
        assertEquals(List.of("bfloat16"), trainer.dtypes);
        assertEquals("system,tcmalloc", trainer.allocators);
        assertEquals(null, trainer.batch, "left out: the config's first phase");
    }

    @Test
    void ablateCompareGivesWelchsPOfTwoBaselines(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path bundle = study(dir, "tiny", List.of(1.0, 1.1, 1.2));
        Path plain = study(dir, "tiny-plain", List.of(1.3, 1.45, 1.5));
        Run r = run("ablate", "compare", bundle.toString(), plain.toString());
        assertEquals(0, r.exit(), r.err());
        // scipy.stats.ttest_ind([1.0, 1.1, 1.2], [1.3, 1.45, 1.5], equal_var=False).pvalue = 0.019159745...
        assertTrue(r.out().contains("Δ tiny − tiny-plain  -0.3167  p 0.0192"), r.out());
        assertTrue(r.out().contains("tiny-plain               3 seeds  val bpb 1.4167 ± 0.1041"), r.out());
    }

    private static Path study(Path dir, String config, List<Double> bpb) throws Exception {
        double mean = bpb.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double std = Math.sqrt(bpb.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / (bpb.size() - 1));
        var baseline = new dev.sluice.runtime.Ablation.Row("baseline", "baseline", java.util.Map.of(), 1, 1, 1, 1, 1,
                bpb, mean, std, 0, null, 60);
        Path out = java.nio.file.Files.createDirectories(dir.resolve(config));
        new ObjectMapper().writeValue(dev.sluice.runtime.Ablation.file(out).toFile(),
                new dev.sluice.runtime.Ablation(config, "drop", List.of(1L, 2L, 3L), baseline, List.of()));
        return out;
    }
}
