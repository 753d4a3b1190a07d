package dev.sluice.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The README and docs/ as a reader meets them: every relative link resolves, every command line shown parses. */
class DocsTest {

    static final Path ROOT = Path.of("../..");
    static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    static final Pattern INLINE = Pattern.compile("`((?:[A-Z_]+=\\S+ )*bin/sluice\\b[^`]*)`");

    static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md")));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    @Test
    void theReadmeIsShort() throws IOException {
        long size = Files.size(ROOT.resolve("README.md"));
        assertTrue(size <= 15 * 1024, "README.md is " + size + " bytes; keep it under 15 KB, the rest in docs/");
    }

    @Test
    void everyRelativeLinkResolvesToAFileAndItsHeading() throws IOException {
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (Path page : pages()) {
            Matcher m = LINK.matcher(Files.readString(page));
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("[a-z]+:.*")) {
                    continue; // http(s), mailto: not ours to check offline
                }
                checked++;
                String[] parts = target.split("#", 2);
                Path file = parts[0].isEmpty() ? page : page.getParent().resolve(parts[0]).normalize();
                if (!Files.exists(file)) {
                    broken.add(page + ": " + target + " (no such file)");
                } else if (!file.toAbsolutePath().normalize().startsWith(ROOT.toAbsolutePath().normalize())) {
                    broken.add(page + ": " + target + " (outside the repository)");
                } else if (parts.length == 2 && !anchors(file).contains(parts[1])) {
                    broken.add(page + ": " + target + " (no such heading)");
                }
            }
        }
        assertTrue(checked > 20, "links checked: " + checked);
        assertEquals(List.of(), broken);
    }

    /** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
    static List<String> anchors(Path file) throws IOException {
        if (!file.toString().endsWith(".md")) {
            return List.of();
        }
        List<String> anchors = new ArrayList<>();
        boolean fence = false;
        for (String line : Files.readAllLines(file)) {
            fence ^= line.startsWith("```");
            if (!fence && line.matches("#{1,6} .*")) {
                anchors.add(line.replaceFirst("#+ ", "").toLowerCase(Locale.ROOT)
                        .replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'));
            }
        }
        return anchors;
    }

    @Test
    void everyCommandLineShownParses() throws IOException {
        List<String> failures = new ArrayList<>();
        List<String> lines = commandLines();
        for (String line : lines) {
            try {
                CommandLine cli = Sluice.commandLine();
                cli.parseArgs(arguments(line).toArray(String[]::new));
            } catch (CommandLine.ParameterException e) {
                failures.add(line + "  →  " + e.getMessage());
            }
        }
        assertTrue(lines.size() >= 15, "command lines found: " + lines);
        assertEquals(List.of(), failures);
    }

    @Test
    void aWrongCommandLineIsRefused() {
        for (String wrong : List.of("bin/sluice speedrun --confg tiny", "bin/sluice bench trainr",
                "bin/sluice bench trainer --steps many", "bin/sluice train --config")) {
            try {
                Sluice.commandLine().parseArgs(arguments(wrong).toArray(String[]::new));
                throw new AssertionError("parsed: " + wrong);
            } catch (CommandLine.ParameterException expected) {
                // the check above must be able to fail
            }
        }
    }

    /**
     * Code that runs {@code bin/sluice}: lines of code blocks (continuations joined, comments dropped) and inline code.
     */
    static List<String> commandLines() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path page : pages()) {
            boolean fence = false;
            StringBuilder pending = null;
            for (String raw : Files.readAllLines(page)) {
                if (raw.startsWith("```")) {
                    fence = !fence;
                    continue;
                }
                if (!fence) {
                    Matcher inline = INLINE.matcher(raw);
                    while (inline.find()) {
                        if (inline.group(1).contains(" --")) { // a command line, not a command named in prose
                            found.add(inline.group(1).trim());
                        }
                    }
                    continue;
                }
                String line = raw.replaceFirst("\\s+#.*$", "").trim();
                if (pending != null) {
                    pending.append(' ').append(line.replaceFirst("\\\\$", ""));
                } else if (line.matches("([A-Z_]+=\\S+ )*bin/sluice\\b.*")) {
                    pending = new StringBuilder(line.replaceFirst("\\\\$", ""));
                }
                if (pending != null && !line.endsWith("\\")) {
                    found.add(pending.toString().trim());
                    pending = null;
                }
            }
        }
        return found;
    }

    /** The arguments after {@code bin/sluice}; {@code [optional]} parts of a usage line are left out. */
    static List<String> arguments(String line) {
        String args = line.replaceAll("\\[[^]]*]", " ").replaceFirst("^([A-Z_]+=\\S+ )*bin/sluice", "").trim();
        return args.isEmpty() ? List.of() : List.of(args.split("\\s+"));
    }
}
