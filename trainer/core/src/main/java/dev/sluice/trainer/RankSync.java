package dev.sluice.trainer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import dev.sluice.collective.GlooGroup;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Data parallelism across ranks (trainers in other processes or on other hosts), on a Gloo group: each rank trains
 * its equal shard of every global batch, so the mean gradient of the whole batch is the mean of the ranks' gradients.
 * Rank 0's parameters are copied to every rank before the first step and after a restore, then checked equal; from
 * there the ranks stay equal because they apply the same update to the same weights. Every call is collective: all
 * ranks make the same calls in the same order.
 */
final class RankSync implements AutoCloseable {

    /** Parameters smaller than this share a bucket: one collective per bucket rather than per tensor. */
    static final long BUCKET_FLOATS = 1L << 22; // 16 MB

    private final GlooGroup group;
    private final FloatPointer bucket = new FloatPointer(BUCKET_FLOATS);

    RankSync(GlooGroup group) {
        Torch.load(); // the gradients' storage is reached through libtorch's C++ API, on DJL's libtorch
        this.group = group;
    }

    int rank() {
        return group.rank();
    }

    int size() {
        return group.size();
    }

    /** Copies rank 0's parameters to every rank, then fails if any rank's differ from rank 0's. */
    void broadcastParameters(List<Gpt.Param> params) {
        Autograd.off(); // a staged copy is written back into the weights in place
        for (Gpt.Param p : params) {
            try (Host host = host(p.value())) {
                group.broadcast(host.floats().asByteBuffer(), 0);
                host.writeBack();
            }
        }
        requireEqual(params, "after copying rank 0's parameters");
    }

    /** Stages every array through a host copy, even on the CPU: tests reach the GPU path's logic with it. */
    static volatile boolean stageEvenOnCpu;

    /**
     * Host memory a collective can read and write for {@code array}: its own storage on the CPU; for an array on a GPU
     * a host copy, written back by {@link Host#writeBack} (Gloo sums host memory; torch.distributed's Gloo backend
     * stages CUDA tensors the same way).
     */
    private static Host host(NDArray array) {
        boolean onCpu = array.getDevice().getDeviceType().equals(Device.Type.CPU);
        return onCpu && !stageEvenOnCpu ? new Host(array, array) : new Host(array, array.toDevice(Device.cpu(), true));
    }

    private record Host(NDArray array, NDArray copy) implements AutoCloseable {
        FloatPointer floats() {
            return Torch.hostFloats(copy);
        }

        void writeBack() {
            if (copy != array) {
                Torch.copyInto(array, copy);
            }
        }

        @Override
        public void close() {
            if (copy != array) {
                copy.close();
            }
        }
    }

    /**
     * Fails loudly, naming the rank, if this rank's parameters differ from rank 0's: their float64 sum and sum of
     * squares are compared bit for bit (equal weights give equal sums; a diverged replica almost never does), taken a
     * slice at a time.
     */
    void requireEqual(List<Gpt.Param> params, String when) {
        double sum = 0;
        double squares = 0;
        for (Gpt.Param p : params) {
            Float64Sums sums = Float64Sums.of(p.value());
            sum += sums.sum();
            squares += sums.squares();
        }
        ByteBuffer mine = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
        mine.putDouble(0, sum).putDouble(8, squares);
        ByteBuffer rank0 = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).put(mine.duplicate()).flip();
        group.broadcast(rank0, 0);
        if (rank0.getDouble(0) != sum || rank0.getDouble(8) != squares) {
            throw new IllegalStateException(String.format(java.util.Locale.ROOT, "rank %d's parameters differ from "
                    + "rank 0's %s: sum %.17g and sum of squares %.17g against rank 0's %.17g and %.17g", rank(), when,
                    sum, squares, rank0.getDouble(0), rank0.getDouble(8)));
        }
    }

    /**
     * Replaces every gradient by the mean over the ranks of that gradient. Each rank's gradient is that of its shard's
     * mean loss, and the shards are equal, so the mean over ranks is the gradient of the whole batch's mean loss.
     */
    void averageGradients(List<Gpt.Param> params) {
        List<Host> pending = new ArrayList<>();
        long filled = 0;
        for (Gpt.Param p : params) {
            NDArray grad = p.value().getGradient();
            grad.muli(1.0 / size()); // scaled before the sum: exact for a power-of-two size, the sum's order aside
            long n = grad.size();
            if (n >= BUCKET_FLOATS) {
                try (Host host = host(grad)) {
                    group.allreduceSum(host.floats(), n);
                    host.writeBack();
                }
                continue;
            }
            if (filled + n > BUCKET_FLOATS) {
                flush(pending, filled);
                filled = 0;
            }
            Host host = host(grad);
            Pointer.memcpy(bucket.getPointer(filled), host.floats(), n * Float.BYTES);
            pending.add(host);
            filled += n;
        }
        flush(pending, filled);
    }

    private void flush(List<Host> grads, long filled) {
        if (grads.isEmpty()) {
            return;
        }
        group.allreduceSum(bucket, filled);
        long at = 0;
        for (Host grad : grads) {
            long n = grad.array().size();
            Pointer.memcpy(grad.floats(), bucket.getPointer(at), n * Float.BYTES);
            grad.writeBack();
            grad.close();
            at += n;
        }
        grads.clear();
    }

    /** The mean over ranks of a per-rank mean (a loss over equal shards is the whole batch's mean). */
    double mean(double local) {
        DoubleBuffer value = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()).asDoubleBuffer();
        value.put(0, local);
        group.allreduceSum(value);
        return value.get(0) / size();
    }

    /** Element-wise sums over ranks, in place (evaluation's nats, tokens and bytes). */
    void sum(double[] values) {
        DoubleBuffer buffer = ByteBuffer.allocateDirect(8 * values.length).order(ByteOrder.nativeOrder())
                .asDoubleBuffer();
        buffer.put(0, values);
        group.allreduceSum(buffer);
        buffer.get(0, values);
    }

    /** Frees the bucket; the group belongs to whoever joined it. */
    @Override
    public void close() {
        bucket.close();
    }
}
