package dev.sluice.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A benchmark's measured part in a JVM of its own, so its peak resident size is its own: this JVM's flags (module
 * opens for Arrow, sluice.home, logging, DJL offline) and class path, with the heap given instead of this one's.
 */
final class ChildJvm {

    private ChildJvm() {}

    /** Runs {@code main} with {@code args} and the extra JVM {@code flags}; fails unless it exits with 0. */
    static void run(Class<?> main, List<String> flags, String... args) throws IOException, InterruptedException {
        run(main, flags, System.getenv(), args);
    }

    /** As {@link #run(Class, List, String...)}, in the environment {@code env}. */
    static void run(Class<?> main, List<String> flags, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-Xmx") && !arg.startsWith("-Xms")) {
                command.add(arg);
            }
        }
        command.addAll(flags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().clear();
        builder.environment().putAll(env);
        Process p = builder.start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(main.getSimpleName() + " " + String.join(" ", args) + " exited with "
                    + p.exitValue());
        }
    }
}
