package dev.sluice.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.jobs.Speedruns;
import dev.sluice.trainer.Flops;
import dev.sluice.trainer.SpeedrunConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice flops --config FILE}: the run's FLOP accounting as one JSON object. */
@Command(name = "flops", mixinStandardHelpOptions = true,
        description = "Prints params, flops_per_token (Levanter's formula), tokens and model_flops (3 x fpt x tokens).")
final class FlopsCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, description = "a speedrun YAML, e.g. configs/speedrun/270m.yaml")
    Path config;

    @Override
    public Integer call() throws Exception {
        SpeedrunConfig c = SpeedrunConfig.load(Speedruns.resolve(config));
        var json = new ObjectMapper().createObjectNode();
        json.put("name", c.name());
        json.put("params", c.parameters());
        json.put("flops_per_token", Flops.perToken(c));
        json.put("tokens", c.schedules().totalTokens());
        json.put("model_flops", Flops.modelFlops(c, c.schedules().totalTokens()));
        json.put("steps", c.schedules().totalSteps());
        json.put("seq_len", c.seqLen());
        json.put("vocab_size", c.model().vocabSize());
        json.put("tokenizer", c.tokenizer().spec());
        System.out.println(json);
        return 0;
    }
}
