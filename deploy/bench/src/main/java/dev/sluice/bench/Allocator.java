package dev.sluice.bench;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The C allocator a benchmark's child JVM runs libtorch on, set up the way {@code bin/sluice} sets it up for
 * {@code SLUICE_MALLOC}: the launcher exports where tcmalloc is ({@code SLUICE_TCMALLOC_LIB}) and the glibc tunables
 * it gives the system allocator ({@code SLUICE_SYSTEM_MALLOC_TUNABLES}), so the benchmark measures exactly what a
 * run gets.
 */
enum Allocator {
    SYSTEM, TCMALLOC;

    static List<Allocator> parse(String list) {
        return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(s -> switch (s) {
            case "system" -> SYSTEM;
            case "tcmalloc" -> TCMALLOC;
            default -> throw new IllegalArgumentException("--allocators: '" + s + "' is not system or tcmalloc");
        }).toList();
    }

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The environment of a child JVM on this allocator, from the launcher's {@code env}. */
    Map<String, String> environment(Map<String, String> env) {
        Map<String, String> child = new HashMap<>(env);
        String others = Arrays.stream(env.getOrDefault("LD_PRELOAD", "").split(":"))
                .filter(l -> !l.isEmpty() && !l.contains("libtcmalloc")).collect(Collectors.joining(":"));
        if (this == TCMALLOC) {
            String lib = env.getOrDefault("SLUICE_TCMALLOC_LIB", "");
            if (lib.isEmpty()) {
                throw new IllegalStateException("--allocators tcmalloc: tcmalloc is not installed (sudo apt-get "
                        + "install libtcmalloc-minimal4) or this JVM was not started by bin/sluice");
            }
            child.put("LD_PRELOAD", others.isEmpty() ? lib : lib + ":" + others);
            child.remove("GLIBC_TUNABLES");
        } else {
            child.put("LD_PRELOAD", others);
            String tunables = env.getOrDefault("SLUICE_SYSTEM_MALLOC_TUNABLES", "");
            if (tunables.isEmpty()) {
                child.remove("GLIBC_TUNABLES");
            } else {
                child.put("GLIBC_TUNABLES", tunables);
            }
        }
        child.put("SLUICE_MALLOC", label());
        return child;
    }
}
