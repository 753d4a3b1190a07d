package dev.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The child JVM's environment per allocator, and one set of glibc tunables for the launcher and the tests. */
class AllocatorTest {

    static final Map<String, String> LAUNCHER = Map.of("LD_PRELOAD", "/lib/libtcmalloc_minimal.so.4:/lib/other.so",
            "SLUICE_TCMALLOC_LIB", "/lib/libtcmalloc_minimal.so.4", "SLUICE_SYSTEM_MALLOC_TUNABLES",
            "glibc.malloc.arena_max=1", "SLUICE_MALLOC", "tcmalloc");

    @Test
    void systemDropsTcmallocAndSetsTheTunables() {
        Map<String, String> env = Allocator.SYSTEM.environment(LAUNCHER);
        assertEquals("/lib/other.so", env.get("LD_PRELOAD"));
        assertEquals("glibc.malloc.arena_max=1", env.get("GLIBC_TUNABLES"));
        assertEquals("system", env.get("SLUICE_MALLOC"));
    }

    @Test
    void tcmallocPreloadsItOnceAndNoTunables() {
        Map<String, String> env = Allocator.TCMALLOC.environment(Map.of("LD_PRELOAD", "/lib/other.so",
                "SLUICE_TCMALLOC_LIB", "/lib/libtcmalloc_minimal.so.4", "GLIBC_TUNABLES", "glibc.malloc.arena_max=1"));
        assertEquals("/lib/libtcmalloc_minimal.so.4:/lib/other.so", env.get("LD_PRELOAD"));
        assertFalse(env.containsKey("GLIBC_TUNABLES"));
        var e = assertThrows(IllegalStateException.class, () -> Allocator.TCMALLOC.environment(Map.of()));
        assertTrue(e.getMessage().contains("libtcmalloc-minimal4"), e.getMessage());
    }

    @Test
    void parsesTheListAndNamesABadEntry() {
        assertEquals(List.of(Allocator.SYSTEM, Allocator.TCMALLOC), Allocator.parse("system, tcmalloc"));
        var e = assertThrows(IllegalArgumentException.class, () -> Allocator.parse("system,jemalloc"));
        assertTrue(e.getMessage().contains("'jemalloc'"), e.getMessage());
    }

    @Test
    void theLauncherAndTheTestsGiveGlibcTheSameTunables() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent().getParent();
        String launcher = find(Files.readString(root.resolve("bin/sluice")),
                "SLUICE_SYSTEM_MALLOC_TUNABLES=\"\\$\\{SLUICE_SYSTEM_MALLOC_TUNABLES-([^}]*)}\"");
        String pom = find(Files.readString(root.resolve("pom.xml")),
                "<sluice.test.glibcTunables>([^<]*)</sluice.test.glibcTunables>");
        assertEquals(launcher, pom);
    }

    private static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), regex);
        return m.group(1);
    }
}
