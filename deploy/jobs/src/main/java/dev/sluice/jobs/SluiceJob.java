package dev.sluice.jobs;

import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.trainer.job.TrainJob;
import java.util.Properties;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParseResult;

/**
 * The job jar's entry point: {@code flink run sluice-job.jar tokenize --config ... --bootstrap-servers ...}, the
 * Web UI's "Submit New Job" page, or the Kubernetes operator. The environment is whatever Flink provides; the
 * options are those of {@code bin/sluice pipeline} and {@code bin/sluice train}.
 *
 * <p>Errors are thrown, never {@code System.exit}: on a session cluster this main runs inside the JobManager.
 */
@Command(name = "sluice-job", description = "Submits a Sluice job to the Flink cluster that runs this program.",
        subcommands = {SluiceJob.Tokenize.class, SluiceJob.Train.class})
public final class SluiceJob {

    interface Job {
        void submit() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        CommandLine cli = new CommandLine(new SluiceJob());
        ParseResult parsed;
        try {
            parsed = cli.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(e.getMessage() + "\n" + e.getCommandLine().getUsageMessage());
        }
        if (CommandLine.printHelpIfRequested(parsed)) {
            return;
        }
        if (!parsed.hasSubcommand()) {
            throw new IllegalArgumentException("name a job: tokenize or train\n" + cli.getUsageMessage());
        }
        ((Job) parsed.subcommand().commandSpec().userObject()).submit();
    }

    @Command(name = "tokenize", mixinStandardHelpOptions = true,
            description = "The TokenizeJob: corpus shards -> tokenize -> pack -> sample -> Arrow batches -> Kafka.")
    static final class Tokenize implements Job {

        @Mixin
        PipelineOptions options = new PipelineOptions();

        @Override
        public void submit() throws Exception {
            PipelineConfig config = options.config();
            config.data().tokenizers().stream().filter(t -> t.startsWith("hf:")).findFirst()
                    .ifPresent(t -> NativeLibraries.requireDjl("tokenizer " + t));
            TokenizeJob job = new TokenizeJob(config);
            Properties kafka = config.kafka().client(); // the config's kafka section, the command line's on top
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            if (resumes(env.getConfiguration())) {
                job.prepareTopicsForRestore(kafka); // `flink run -s`: the topics hold what came before the savepoint
            } else {
                job.prepareTopics(kafka, options.overwrite());
            }
            job.build(env, kafka);
            env.execute(job.name());
        }
    }

    /** True when Flink starts this job from a savepoint or checkpoint ({@code flink run -s PATH}). */
    static boolean resumes(org.apache.flink.configuration.ReadableConfig config) {
        return config.getOptional(org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH).isPresent();
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "The TrainJob: KafkaSource of sluice.<dataset>.<tokenizer>.train -> trainer operator.")
    static final class Train implements Job {

        @Mixin
        TrainOptions options = new TrainOptions();

        @Override
        public void submit() throws Exception {
            NativeLibraries.requireDjl("the TrainJob");
            Properties kafka = options.kafka().client();
            TrainJob job = options.trainJob();
            job.preflight(kafka);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            job.build(env, kafka);
            env.execute(job.name());
        }
    }
}
