package dev.sluice.trainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** configs/speedrun/micro.yaml, with some of its lines replaced: the small model the tests train. */
public final class Micro {

    private Micro() {}

    /** {@code replacements}: pairs of (line as in the file, line to use instead). */
    public static SpeedrunConfig config(String... replacements) {
        try {
            String yaml = Files.readString(Path.of("../configs/speedrun/micro.yaml"));
            for (int i = 0; i < replacements.length; i += 2) {
                if (!yaml.contains(replacements[i])) {
                    throw new IllegalArgumentException("micro.yaml has no line '" + replacements[i] + "'");
                }
                yaml = yaml.replace(replacements[i], replacements[i + 1]);
            }
            return SpeedrunConfig.parse(yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
