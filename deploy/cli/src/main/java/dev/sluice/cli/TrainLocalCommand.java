package dev.sluice.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.contract.config.SluiceHome;
import dev.sluice.jobs.RunOverrides;
import dev.sluice.jobs.Speedruns;
import dev.sluice.pipeline.DocumentSplit;
import dev.sluice.runtime.DemoCorpus;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.trainer.Flops;
import dev.sluice.trainer.InMemoryTraining;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.TextRows;
import dev.sluice.trainer.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sluice train-local}: the trainer core on a corpus tokenized in this process, no Kafka or Flink. For
 * trying a config quickly; the streaming path is the TrainJob.
 */
@Command(name = "train-local", mixinStandardHelpOptions = true,
        description = {"Trains a speedrun config on .jsonl.gz shards tokenized in-process (concat packing), with the "
                + "validation split by text hash; writes metrics.jsonl and the checkpoint into --out and prints a "
                + "JSON summary."})
final class TrainLocalCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, description = "tiny, 150m, ... or a speedrun YAML")
    Path config;

    @Option(names = "--corpus", description = "directory of .jsonl.gz shards (default: the demo corpus)")
    Path corpus;

    @Option(names = "--out", description = "output directory (default: runs/<name>-local)")
    Path out;

    @Option(names = "--val-fraction", defaultValue = "0.02")
    double valFraction;

    @Mixin
    RunOverrides overrides = new RunOverrides();

    @Override
    public Integer call() throws Exception {
        SpeedrunConfig c = overrides.apply(SpeedrunConfig.load(Speedruns.resolve(config)));
        Tokenizer tok = c.tokenizer().load();
        Path outDir = out != null ? out : SluiceHome.dir().resolve("runs/" + c.name() + "-local");
        Files.createDirectories(outDir);
        List<String> train = new ArrayList<>();
        List<String> val = new ArrayList<>();
        for (String text : DemoCorpus.texts(corpus != null ? corpus : DemoCorpus.corpusDir())) {
            (DocumentSplit.isValidation(text, valFraction) ? val : train).add(text);
        }
        int seqLen = c.seqLen();
        List<int[]> trainRows = TextRows.of(tok, train, seqLen);
        List<int[]> valRows = TextRows.of(tok, val, seqLen);
        valRows = valRows.subList(0, Math.min(valRows.size(), Math.max(1, c.train().evalSequences())));
        long start = System.nanoTime();
        Trainer.EvalResult last = new InMemoryTraining(c, tok).run(trainRows, valRows, outDir, System.err);
        ObjectNode summary = new ObjectMapper().createObjectNode();
        summary.put("name", c.name());
        summary.put("steps", c.schedules().totalSteps());
        summary.put("tokens", c.schedules().totalTokens());
        summary.put("model_flops", Flops.modelFlops(c, c.schedules().totalTokens()));
        summary.put("training_seconds", (System.nanoTime() - start) / 1e9);
        summary.put("val_loss", last.loss());
        summary.put("val_bpb", last.bitsPerByte());
        summary.put("checkpoint", outDir.toString());
        System.out.println(summary);
        return 0;
    }
}
