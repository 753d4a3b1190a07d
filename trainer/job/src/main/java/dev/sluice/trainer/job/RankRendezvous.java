package dev.sluice.trainer.job;

import dev.sluice.collective.GlooGroup;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a TrainJob's ranks meet: a directory of this submission's own that every rank can write (Gloo's file store:
 * one directory on one host, a shared volume across hosts) and how long any rendezvous or collective may wait.
 * Each rank listens on {@code $SLUICE_RANK_HOST} (default 127.0.0.1; on Kubernetes the pod's IP), and every
 * execution attempt meets under its own prefix, so a restarted job never reads the addresses of a failed one.
 */
record RankRendezvous(String storeDir, long timeoutMs) implements Serializable {

    static final String HOST_ENV = "SLUICE_RANK_HOST";

    RankRendezvous {
        if (timeoutMs <= 0) {
            throw new IllegalArgumentException("the rank timeout must be positive (got " + timeoutMs + " ms)");
        }
    }

    GlooGroup.Rendezvous of(int rank, int ranks, int attempt) {
        String host = System.getenv().getOrDefault(HOST_ENV, "127.0.0.1");
        return new GlooGroup.Rendezvous(Path.of(storeDir), "attempt-" + attempt, rank, ranks, host,
                Duration.ofMillis(timeoutMs));
    }
}
