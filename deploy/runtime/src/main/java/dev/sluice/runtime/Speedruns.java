package dev.sluice.runtime;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code --config tiny} means {@code configs/speedrun/tiny.yaml}; a path is taken as it is. */
public final class Speedruns {

    private Speedruns() {}

    /** {@code runs/<name>-<yyyyMMdd-HHmmss>} under the repository. */
    public static Path defaultOut(String name) {
        return DemoCorpus.home().resolve("runs/" + name + "-"
                + java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }

    public static Path resolve(Path config) {
        if (Files.exists(config) || config.toString().contains("/") || config.toString().endsWith(".yaml")) {
            return config;
        }
        return DemoCorpus.home().resolve("configs/speedrun/" + config + ".yaml");
    }
}
