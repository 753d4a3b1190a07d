package dev.sluice.cli;

import dev.sluice.bench.DataWaitBench;
import dev.sluice.bench.MemoryBench;
import dev.sluice.bench.PipelineBench;
import dev.sluice.bench.ShardBench;
import dev.sluice.bench.TokenizerBenchmark;
import dev.sluice.bench.TrainerBench;
import dev.sluice.runtime.DemoCorpus;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Benchmarks that print figures measured against a reference in the same run (never timed unit tests). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"tokenizer: single-thread encode MB/s of gpt2 and marin vs bare JTokkit and DJL's Rust HF "
                + "tokenizer on the same text.",
                "pipeline: end-to-end tokens/s of the TokenizeJob (shards to committed Kafka batches) vs the bare "
                        + "tokenizer on the same text and cores.",
                "trainer: step time, FLOP/s and peak memory with plain and fused (sdpa) attention in float32 and "
                        + "bfloat16, tiny and 150m (or --config), each in its own JVM; vs plain matmul FLOP/s on the "
                        + "model's lm_head shape measured around the steps.",
                "datawait: the speedrun (pipeline and trainer together on this machine); the trainer's data-wait "
                        + "fraction per step.",
                "memory: the memory planner's predicted peak vs the peak measured in a fresh JVM, micro, tiny and "
                        + "150m at micro-batch 1 (or --config, --micro-batch).",
                "shards: --shards N shards of --shard-mb MB through the TokenizeJob in a JVM of --heap; its peak "
                        + "resident size, what the samplers held, and the sequence count vs one computed without Flink."})
final class BenchCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "tokenizer | pipeline | trainer | datawait | memory | shards")
    String what;

    @Option(names = "--corpus",
            description = "directory of .jsonl, .jsonl.gz or .jsonl.zst shards (default: the demo corpus)")
    Path corpus;

    @Option(names = "--repeats", defaultValue = "3", description = "measured passes; the best counts")
    int repeats;

    @Option(names = "--max-mb", defaultValue = "0", description = "use at most this many MB of text (0: all)")
    int maxMb;

    @Option(names = "--epochs", defaultValue = "128",
            description = "pipeline: passes over the corpus in one job (long enough for the JIT to settle)")
    int epochs;

    @Option(names = "--parallelism", defaultValue = "2", description = "pipeline: cores (tokenizer tasks)")
    int parallelism;

    @Option(names = "--tokenizer", defaultValue = "gpt2", description = "pipeline: gpt2 | marin | hf:FILE")
    String tokenizer;

    @Option(names = "--config", description = "trainer, datawait, memory: the speedrun config (default tiny)")
    void speedrun(Path config) {
        speedrun = config;
        speedrunGiven = true;
    }

    Path speedrun = Path.of("tiny");
    boolean speedrunGiven;

    @Option(names = "--steps", defaultValue = "3", description = "trainer: measured steps (after 1 warm-up step)")
    int steps;

    @Option(names = "--batch", defaultValue = "0", description = "trainer: sequences per step (0: the config's first phase, at most 2,048 tokens)")
    int batch;

    @Option(names = "--micro-batch", defaultValue = "-1",
            description = "trainer: sequences per forward/backward pass (-1: the config's)")
    int microBatch;

    @Option(names = "--allocators", defaultValue = "default", description = "trainer: system, tcmalloc or both "
            + "(system,tcmalloc), each in its own JVM; default: the one this run has (SLUICE_MALLOC)")
    String allocators;

    @Option(names = "--loss", split = ",", defaultValue = "chunked",
            description = "trainer: chunked, full (the whole [tokens, vocab] logits) or both")
    List<String> losses;

    @Option(names = "--attention", split = ",", defaultValue = "plain,sdpa", description = "trainer: plain, sdpa or both")
    List<String> attentions;

    @Option(names = "--dtype", split = ",", defaultValue = "float32,bfloat16",
            description = "trainer: float32, bfloat16 or both")
    List<String> dtypes;

    @Option(names = "--replicas", defaultValue = "1",
            description = "memory: train on this many model replicas on the CPU (train.devices), each pass --micro-batch")
    int replicas;

    @Option(names = "--shards", defaultValue = "3", description = "shards: how many")
    int shards;

    @Option(names = "--shard-mb", defaultValue = "300", description = "shards: MB of JSON lines each")
    int shardMb;

    @Option(names = "--heap", defaultValue = "1g", description = "shards: the pipeline JVM's -Xmx")
    String heap;

    @Override
    public Integer call() throws Exception {
        Path dir = corpus != null ? corpus : DemoCorpus.corpusDir();
        return switch (what) {
            case "tokenizer" -> TokenizerBenchmark.run(dir, maxMb, repeats);
            case "pipeline" -> PipelineBench.run(dir, tokenizer, epochs, parallelism);
            case "trainer" -> TrainerBench.run(new TrainerBench.Plan(speedrunGiven ? List.of(speedrun)
                    : List.of(Path.of("tiny"), Path.of("150m")), List.of(allocators.equals("default")
                    ? System.getenv().getOrDefault("SLUICE_MALLOC", "system") : allocators), losses, attentions, dtypes,
                    steps, batch, microBatch));
            case "datawait" -> DataWaitBench.run(speedrun);
            case "shards" -> ShardBench.run(shards, shardMb, heap, tokenizer, parallelism);
            case "memory" -> MemoryBench.run(speedrunGiven ? List.of(speedrun) : List.of(Path.of("micro"),
                    Path.of("tiny"), Path.of("150m")), Math.max(1, microBatch), replicas);
            default -> throw new IllegalArgumentException("unknown benchmark '" + what
                    + "'; known: tokenizer, pipeline, trainer, datawait, memory");
        };
    }
}
