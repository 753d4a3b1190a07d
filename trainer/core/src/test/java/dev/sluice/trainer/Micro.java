package dev.sluice.trainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** configs/speedrun/micro.yaml, with some of its lines replaced: the small model the tests train. */
public final class Micro {

    private Micro() {}

    /** The file, found from any module's directory (tests run in their module's, one or two levels down). */
    public static Path file() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path f = dir.resolve("configs/speedrun/micro.yaml");
            if (Files.isRegularFile(f)) {
                return f;
            }
        }
        throw new IllegalStateException("configs/speedrun/micro.yaml not found above " + Path.of("").toAbsolutePath());
    }

    /** {@code replacements}: pairs of (line as in the file, line to use instead). */
    public static SpeedrunConfig config(String... replacements) {
        try {
            String yaml = Files.readString(file());
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
