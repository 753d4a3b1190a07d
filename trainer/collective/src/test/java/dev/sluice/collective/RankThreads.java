package dev.sluice.collective;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Ranks as threads of one test JVM, each in a real Gloo group over loopback TCP, meeting under {@code store};
 * {@code join} is how a rank joins (the trainer's tests load libtorch first). Shared with the trainer's tests
 * through this module's test jar.
 */
public record RankThreads(Path store, Join join) {

    public interface Join {
        GlooGroup join(GlooGroup.Rendezvous rendezvous) throws IOException;
    }

    public interface Work<T> {
        T run(GlooGroup group) throws Exception;
    }

    /** Runs {@code work} on {@code size} ranks at once, under {@code prefix}; each rank's result, in rank order. */
    public <T> List<T> run(int size, String prefix, Work<T> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(size);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int rank = 0; rank < size; rank++) {
                GlooGroup.Rendezvous r = new GlooGroup.Rendezvous(store, prefix, rank, size, "127.0.0.1",
                        Duration.ofSeconds(60));
                futures.add(pool.submit(() -> {
                    try (GlooGroup group = join.join(r)) {
                        if (group.rank() != r.rank() || group.size() != size) {
                            throw new AssertionError("joined as rank " + group.rank() + " of " + group.size()
                                    + ", not " + r.rank() + " of " + size);
                        }
                        return work.run(group);
                    }
                }));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
