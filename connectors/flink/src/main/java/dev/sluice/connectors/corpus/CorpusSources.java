package dev.sluice.connectors.corpus;

import dev.sluice.contract.config.SluiceHome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Corpus shards named by files, directories and globs. */
public final class CorpusSources {

    private CorpusSources() {}

    /**
     * Every shard Sluice can read under the given paths (a file, a directory searched recursively, or a glob
     * such as {@code data/*.jsonl.gz}), sorted, without duplicates. A relative path is taken from the working
     * directory, or else from the Sluice directory ({@code -Dsluice.home}, set by bin/sluice). Fails naming the
     * path that matched nothing.
     */
    public static List<Path> listShards(List<String> patterns) {
        return listShards(patterns, true);
    }

    static List<Path> listShards(List<String> patterns, boolean requireMatches) {
        TreeSet<Path> shards = new TreeSet<>();
        for (String pattern : patterns) {
            if (pattern.contains("://") && !pattern.startsWith("file://")) {
                throw new IllegalArgumentException("corpus path '" + pattern + "': shards are listed on a local or "
                        + "mounted file system (java.nio), not through a remote file system's client; mount it, or "
                        + "copy the shards to one");
            }
            List<Path> found = expand(absolute(pattern.startsWith("file://") ? Path.of(java.net.URI.create(pattern))
                    .toString() : pattern));
            if (found.isEmpty() && requireMatches) {
                throw new IllegalArgumentException("corpus path '" + pattern + "' matches no shard (.jsonl, .jsonl.gz, "
                        + ".jsonl.zst, .txt, .parquet)");
            }
            shards.addAll(found);
        }
        return new ArrayList<>(shards);
    }

    /**
     * The pattern as an absolute path: from the working directory when it matches there, else from the Sluice
     * directory (the shipped configs name the demo corpus relative to it). Jobs hand absolute patterns to Flink,
     * whose JobManager may run elsewhere.
     */
    public static String absolute(String pattern) {
        if (Path.of(pattern).isAbsolute() || pattern.contains("://")) {
            return pattern;
        }
        String fromCwd = Path.of(pattern).toAbsolutePath().normalize().toString();
        if (!SluiceHome.isSet() || !expand(fromCwd).isEmpty()) {
            return fromCwd;
        }
        return SluiceHome.resolve(pattern).normalize().toString();
    }

    private static List<Path> expand(String pattern) {
        int glob = firstGlobChar(pattern);
        Path root = glob < 0 ? Path.of(pattern) : baseDir(pattern.substring(0, glob));
        PathMatcher matcher = glob < 0 ? p -> true
                : FileSystems.getDefault().getPathMatcher("glob:" + Path.of(pattern).toAbsolutePath().normalize());
        if (Files.isRegularFile(root)) {
            return List.of(root.toAbsolutePath().normalize());
        }
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile)
                    .map(p -> p.toAbsolutePath().normalize())
                    .filter(p -> !p.getFileName().toString().startsWith(".") && !p.getFileName().toString().startsWith("_"))
                    .filter(p -> ShardFormat.of(p.getFileName().toString()) != null)
                    .filter(matcher::matches)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("listing corpus path " + root, e);
        }
    }

    private static int firstGlobChar(String s) {
        for (int i = 0; i < s.length(); i++) {
            if ("*?[{".indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static Path baseDir(String prefix) {
        int slash = prefix.lastIndexOf('/');
        return slash < 0 ? Path.of(".") : Path.of(prefix.substring(0, slash + 1));
    }
}
