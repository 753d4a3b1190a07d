package dev.sluice.collective;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * One rank's membership of a Gloo process group: the trainers of one job, each holding a replica, summing their
 * gradients and copying rank 0's parameters. Every rank must issue the same collectives in the same order; a rank
 * that does not arrive fails the others after {@link Rendezvous#timeout()} with Gloo's message (a native wait does
 * not see thread interrupts, so the timeout is what ends a collective whose peer died).
 */
public final class GlooGroup implements AutoCloseable {

    /**
     * Where and how the ranks meet: a directory every rank can write (Gloo's file store; a shared volume across
     * hosts), a prefix per attempt so a restart never reads an earlier attempt's addresses, this rank, the group's
     * size, the host name or address this rank listens on, and how long any rendezvous or collective may wait.
     */
    public record Rendezvous(Path storeDir, String prefix, int rank, int size, String host, Duration timeout) {
        public Rendezvous {
            if (size < 1 || rank < 0 || rank >= size) {
                throw new IllegalArgumentException("rank " + rank + " is not in a group of " + size);
            }
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("the collective timeout must be positive, not " + timeout);
            }
        }
    }

    private final GlooNative.Group group;

    private GlooGroup(GlooNative.Group group) {
        this.group = group;
    }

    /** Joins the group: returns once all {@code size} ranks have exchanged addresses and connected. */
    public static GlooGroup join(Rendezvous r) throws java.io.IOException {
        Files.createDirectories(r.storeDir());
        return new GlooGroup(new GlooNative.Group(r.storeDir().toString(), r.prefix(), r.rank(), r.size(), r.host(),
                r.timeout().toMillis()));
    }

    /** Why this host cannot form a group (the JNI library or libgloo did not load), or empty when it can. */
    public static Optional<String> unavailable() {
        try {
            org.bytedeco.javacpp.Loader.load(GlooNative.class);
            return Optional.empty();
        } catch (UnsatisfiedLinkError e) {
            return Optional.of("Gloo is not available here (" + e.getMessage() + "): install libgloo0, and build "
                    + "Sluice where libgloo-dev and g++ are installed");
        }
    }

    public int rank() {
        return group.rank();
    }

    public int size() {
        return group.size();
    }

    /** Sums a direct buffer's remaining floats over every rank, in place. */
    public void allreduceSum(FloatBuffer data) {
        group.allreduceSum(new FloatPointer(direct(data)), data.remaining());
    }

    /** Sums a direct buffer's remaining doubles over every rank, in place. */
    public void allreduceSum(DoubleBuffer data) {
        group.allreduceSum(new DoublePointer(direct(data)), data.remaining());
    }

    /** Sums {@code n} floats in native memory (a tensor's storage, say) over every rank, in place. */
    public void allreduceSum(FloatPointer data, long n) {
        group.allreduceSum(data, n);
    }

    /** Copies root's remaining bytes of a direct buffer into every other rank's. */
    public void broadcast(ByteBuffer data, int root) {
        group.broadcast(new BytePointer(direct(data)), data.remaining(), root);
    }

    /** Returns on every rank once all have called it. */
    public void barrier() {
        group.barrier();
    }

    @Override
    public void close() {
        group.close();
    }

    private static <B extends Buffer> B direct(B buffer) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("Gloo reads and writes native memory: pass a direct buffer");
        }
        return buffer;
    }
}
