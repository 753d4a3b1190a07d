package dev.sluice.jobs;

import dev.sluice.contract.config.YamlConfig;
import dev.sluice.trainer.SpeedrunConfig;
import java.util.LinkedHashMap;
import dev.sluice.trainer.Devices;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Overrides of a speedrun config for a smoke run of a real model on a small machine: the step count, the batch
 * schedule, the evaluation, the device and the compute precision and attention kernel. The model's shape and
 * features stay as configured.
 */
public final class RunOverrides {

    @Option(names = "--max-steps", description = "train this many steps (rounded up to whole rounds of the batch "
            + "schedule) instead of the token budget's; evaluates only at the end")
    Integer maxSteps;

    @Option(names = "--batch", description = "sequences per step, every step (instead of the batch schedule)")
    Integer batch;

    @Option(names = "--eval-sequences", description = "validation sequences per evaluation (default with "
            + "--max-steps: " + SMOKE_EVAL_SEQUENCES + ")")
    Integer evalSequences;

    @Option(names = "--device", description = "cpu, gpu, gpu:N or cuda:N instead of the config's (one device)")
    String device;

    @Option(names = "--devices", split = ",", description = "data parallelism over this host's devices instead of "
            + "the config's: a replica per device, e.g. gpu:0,gpu:1 or gpu:* (cpu,cpu runs the same math on the CPU)")
    List<String> devices;

    @Option(names = "--dtype", description = "float32 or bfloat16 (bf16 compute, float32 master weights) instead of "
            + "the config's")
    String dtype;

    @Option(names = "--attention", description = "sdpa (fused) or plain instead of the config's")
    String attention;

    static final int SMOKE_EVAL_SEQUENCES = 2;

    public SpeedrunConfig apply(SpeedrunConfig c) {
        Map<String, Object> train = new LinkedHashMap<>();
        List<Integer> schedule = batch != null ? List.of(batch) : c.train().batchSchedule();
        if (batch != null) {
            train.put("batch_schedule", schedule);
        }
        if (maxSteps != null) {
            if (maxSteps < 1) {
                throw new IllegalArgumentException("--max-steps must be >= 1 (got " + maxSteps + ")");
            }
            long perRound = (long) c.seqLen() * schedule.stream().mapToInt(Integer::intValue).sum();
            long rounds = (maxSteps + schedule.size() - 1) / schedule.size();
            train.put("tokens_per_param", YamlConfig.LEFT_OUT); // the smoke run's budget is in tokens
            train.put("train_tokens", rounds * perRound);
            train.put("eval_every", 0);
        }
        if (evalSequences != null || maxSteps != null) {
            train.put("eval_sequences", evalSequences != null ? evalSequences : SMOKE_EVAL_SEQUENCES);
        }
        if (device != null && devices != null) {
            throw new IllegalArgumentException("give --device (one) or --devices (several), not both");
        }
        if (device != null) {
            train.put("device", device);
            train.put("devices", List.of());
        }
        if (devices != null) {
            train.put("devices", devices);
            train.put("device", devices.get(0).equals(Devices.ALL_GPUS) ? "gpu:0" : devices.get(0));
        }
        if (dtype != null) {
            train.put("dtype", dtype);
        }
        SpeedrunConfig model = attention == null ? c : c.withModel(Map.of("attention", attention));
        return train.isEmpty() ? model : model.withTrain(train);
    }
}
