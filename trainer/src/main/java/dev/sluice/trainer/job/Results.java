package dev.sluice.trainer.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.trainer.Flops;
import dev.sluice.trainer.Trainer;

/** results.json in the shape of Marin's speedrun results: one run with its configs, size, tokens, FLOPs and bpb. */
final class Results {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Results() {}

    static ObjectNode json(TrainJobConfig job, Trainer trainer, Trainer.EvalResult eval, double trainingSeconds) {
        var c = job.speedrun();
        long tokens = trainer.schedules().tokensBefore(trainer.step());
        double modelFlops = Flops.modelFlops(c.model(), tokens);
        ObjectNode root = JSON.createObjectNode();
        ObjectNode info = root.putArray("runs").addObject().putObject("run_info");
        info.set("model_config", JSON.valueToTree(c.model()));
        info.set("train_config", JSON.valueToTree(c.train()));
        info.put("name", c.name());
        info.put("tokenized_dataset", job.trainTopic());
        info.put("tokenizer", c.train().tokenizer());
        info.put("model_size", c.parameters());
        info.put("steps", trainer.step());
        info.put("total_tokens", tokens);
        info.put("flops_per_token", Flops.perToken(c.model()));
        info.put("model_flops", modelFlops);
        // no activation recomputation: the hardware does the model's FLOPs
        info.put("training_hardware_flops", modelFlops);
        info.put("training_time", trainingSeconds);
        info.put("device", c.train().device());
        if (eval != null) {
            info.put("eval/bpb", eval.bitsPerByte());
            info.put("eval/loss", eval.loss());
            info.put("eval/tokens", eval.tokens());
            info.put("eval/bytes", eval.bytes());
        }
        return root;
    }
}
