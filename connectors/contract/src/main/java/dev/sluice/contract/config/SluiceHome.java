package dev.sluice.contract.config;

import java.nio.file.Path;

/**
 * The Sluice directory: where the shipped configs, the demo corpus and {@code runs/} are. {@code bin/sluice} sets
 * it with {@code -Dsluice.home}; elsewhere (a test, a job jar on a cluster) it is the working directory.
 */
public final class SluiceHome {

    private SluiceHome() {}

    /** Whether {@code -Dsluice.home} is set (relative paths then fall back to it). */
    public static boolean isSet() {
        return System.getProperty("sluice.home") != null;
    }

    public static Path dir() {
        return Path.of(System.getProperty("sluice.home", ".")).toAbsolutePath().normalize();
    }

    public static Path resolve(String relative) {
        return dir().resolve(relative);
    }
}
