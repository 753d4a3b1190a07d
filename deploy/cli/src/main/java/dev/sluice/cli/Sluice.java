package dev.sluice.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one command a user runs: {@code bin/sluice <subcommand>}. */
@Command(name = "sluice", mixinStandardHelpOptions = true, version = "sluice 0.1.0",
        description = "Streaming data (Flink, Arrow, Kafka) for speedrun-style GPT training.",
        subcommands = {TokenizeCommand.class, BenchCommand.class, PipelineCommand.class, FlopsCommand.class,
                EvalCommand.class, TrainCommand.class, TrainLocalCommand.class, SpeedrunCommand.class,
                ClusterCommand.class, DoctorCommand.class, MemoryCommand.class, AblateCommand.class,
                CommandLine.HelpCommand.class})
public final class Sluice {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The CLI as {@code bin/sluice} runs it: a failure is one line naming the command (tests run it in-process). */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Sluice());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // A user error (bad config, unknown tokenizer, missing file) is one clear line, not a stack trace.
            commandLine.getErr().println("sluice " + commandLine.getCommandName() + ": " + rootMessage(e));
            String log = System.getProperty("sluice.log");
            if (log != null) {
                commandLine.getErr().println("(the full log: " + log + ")");
            }
            return 2;
        });
        return cli;
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while ((t.getMessage() == null || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
