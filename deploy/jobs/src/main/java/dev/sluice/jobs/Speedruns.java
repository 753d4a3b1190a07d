package dev.sluice.jobs;

import dev.sluice.contract.config.SluiceHome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/** {@code --config tiny} means {@code configs/speedrun/tiny.yaml}; a path is taken as it is. */
public final class Speedruns {

    private Speedruns() {}

    /** {@code runs/<name>-<yyyyMMdd-HHmmss>} in the Sluice directory. */
    public static Path defaultOut(String name) {
        return SluiceHome.resolve("runs/" + name + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }

    public static Path resolve(Path config) {
        if (Files.exists(config) || config.toString().contains("/") || config.toString().endsWith(".yaml")) {
            return config;
        }
        return SluiceHome.resolve("configs/speedrun/" + config + ".yaml");
    }
}
