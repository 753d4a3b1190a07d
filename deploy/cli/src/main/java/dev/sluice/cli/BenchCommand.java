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

/** Benchmarks that print figures measured against a reference in the same run (never timed unit tests). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks, each against a reference measured in the same run (docs/benchmarks.md).",
        subcommands = {BenchCommand.Tokenizer.class, BenchCommand.Pipeline.class, BenchCommand.Trainer.class,
                BenchCommand.Memory.class, BenchCommand.DataWait.class, BenchCommand.Shards.class})
final class BenchCommand {

    /** The demo corpus unless a directory is given. */
    static Path corpus(Path given) {
        return given != null ? given : DemoCorpus.corpusDir();
    }

    /** The configs a trainer benchmark measures: the one given, else its defaults. */
    static List<Path> configs(Path given, String... defaults) {
        return given != null ? List.of(given) : java.util.Arrays.stream(defaults).map(Path::of).toList();
    }

    @Command(name = "tokenizer", mixinStandardHelpOptions = true,
            description = "Single-thread encode MB/s of gpt2 and marin vs bare JTokkit and DJL's Rust HF tokenizer on "
                    + "the same text.")
    static final class Tokenizer implements Callable<Integer> {
        @Option(names = "--corpus", description = "directory of .jsonl, .jsonl.gz or .jsonl.zst shards (default: the "
                + "demo corpus)")
        Path corpus;

        @Option(names = "--repeats", defaultValue = "3", description = "measured passes; the best counts")
        int repeats;

        @Option(names = "--max-mb", description = "use at most this many MB of text (default: all)")
        Integer maxMb;

        @Override
        public Integer call() throws Exception {
            return TokenizerBenchmark.run(BenchCommand.corpus(corpus), maxMb == null ? 0 : maxMb, repeats);
        }
    }

    @Command(name = "pipeline", mixinStandardHelpOptions = true,
            description = "End-to-end tokens/s of the TokenizeJob (shards to committed Kafka batches) vs the bare "
                    + "tokenizer, read+tokenize, and the Kafka and Flink references on the same text and cores.")
    static final class Pipeline implements Callable<Integer> {
        @Option(names = "--corpus", description = "directory of shards (default: the demo corpus)")
        Path corpus;

        @Option(names = "--epochs", defaultValue = "128",
                description = "passes over the corpus in one job (long enough for the JIT to settle)")
        int epochs;

        @Option(names = "--parallelism", defaultValue = "2", description = "cores (tokenizer tasks)")
        int parallelism;

        @Option(names = "--tokenizer", defaultValue = "gpt2", description = "gpt2 | marin | hf:FILE")
        String tokenizer;

        @Override
        public Integer call() throws Exception {
            return PipelineBench.run(BenchCommand.corpus(corpus), tokenizer, epochs, parallelism);
        }
    }

    @Command(name = "trainer", mixinStandardHelpOptions = true,
            description = "Step time, FLOP/s and peak memory per attention, dtype, loss and allocator, tiny and 150m "
                    + "(or --config), each in its own JVM; vs plain matmul FLOP/s on the model's lm_head shape.")
    static final class Trainer implements Callable<Integer> {
        @Option(names = "--config", description = "the speedrun config (default: tiny and 150m)")
        Path config;

        @Option(names = "--steps", defaultValue = "3", description = "measured steps (after 1 warm-up step)")
        int steps;

        @Option(names = "--batch", description = "sequences per step (default: the config's first phase, at most "
                + "2,048 tokens)")
        Integer batch;

        @Option(names = "--micro-batch", description = "sequences per forward/backward pass (default: the config's)")
        Integer microBatch;

        @Option(names = "--allocators", description = "system, tcmalloc or both (system,tcmalloc), each in its own "
                + "JVM (default: the one this run has, SLUICE_MALLOC)")
        String allocators;

        @Option(names = "--loss", split = ",", defaultValue = "chunked",
                description = "chunked, full (the whole [tokens, vocab] logits) or both")
        List<String> losses;

        @Option(names = "--attention", split = ",", defaultValue = "plain,sdpa", description = "plain, sdpa or both")
        List<String> attentions;

        @Option(names = "--dtype", split = ",", defaultValue = "float32,bfloat16",
                description = "float32, bfloat16 or both")
        List<String> dtypes;

        @Override
        public Integer call() throws Exception {
            String allocator = allocators != null ? allocators
                    : System.getenv().getOrDefault("SLUICE_MALLOC", "system");
            return TrainerBench.run(new TrainerBench.Plan(configs(config, "tiny", "150m"), List.of(allocator), losses,
                    attentions, dtypes, steps, batch, microBatch));
        }
    }

    @Command(name = "memory", mixinStandardHelpOptions = true,
            description = "The memory planner's predicted peak vs the peak measured in a fresh JVM: micro, tiny and "
                    + "150m (or --config).")
    static final class Memory implements Callable<Integer> {
        @Option(names = "--config", description = "the speedrun config (default: micro, tiny and 150m)")
        Path config;

        @Option(names = "--micro-batch", defaultValue = "1", description = "sequences per forward/backward pass")
        int microBatch;

        @Option(names = "--replicas", defaultValue = "1",
                description = "train on this many model replicas on the CPU (train.devices), each pass --micro-batch")
        int replicas;

        @Override
        public Integer call() throws Exception {
            return MemoryBench.run(configs(config, "micro", "tiny", "150m"), microBatch, replicas);
        }
    }

    @Command(name = "datawait", mixinStandardHelpOptions = true,
            description = "The speedrun (pipeline and trainer together on this machine): the trainer's data-wait "
                    + "fraction per step.")
    static final class DataWait implements Callable<Integer> {
        @Option(names = "--config", defaultValue = "tiny", description = "the speedrun config")
        Path config;

        @Override
        public Integer call() throws Exception {
            return DataWaitBench.run(config);
        }
    }

    @Command(name = "shards", mixinStandardHelpOptions = true,
            description = "--shards N shards of --shard-mb MB through the TokenizeJob in a JVM of --heap: its peak "
                    + "resident size, what the samplers held, and the sequence count vs one computed without Flink.")
    static final class Shards implements Callable<Integer> {
        @Option(names = "--shards", defaultValue = "3", description = "how many")
        int shards;

        @Option(names = "--shard-mb", defaultValue = "300", description = "MB of JSON lines each")
        int shardMb;

        @Option(names = "--heap", defaultValue = "1g", description = "the pipeline JVM's -Xmx")
        String heap;

        @Option(names = "--tokenizer", defaultValue = "gpt2", description = "gpt2 | marin | hf:FILE")
        String tokenizer;

        @Option(names = "--parallelism", defaultValue = "2", description = "cores (tokenizer tasks)")
        int parallelism;

        @Override
        public Integer call() throws Exception {
            return ShardBench.run(shards, shardMb, heap, tokenizer, parallelism);
        }
    }
}
