package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * Model and optimizer state as one stream: {@code DIR/checkpoint.bin}, or a file in a Flink checkpoint directory.
 * Written and read a slice of a tensor at a time, so no Java array ever holds a tensor, let alone the state (a 460m
 * run's is ~4.8 GB).
 *
 * <pre>
 * magic   8 bytes  "SLUICECK"
 * version int      2
 * config  UTF      the SpeedrunConfig as JSON (to rebuild the model for eval)
 * step    int      steps taken (the schedules' position: they are pure functions of it)
 * count   int      number of tensors, then per tensor:
 *   name  UTF      "param/&lt;name&gt;", "muon/&lt;name&gt;", "adam.m/&lt;name&gt;", "adam.v/&lt;name&gt;"
 *   dtype byte     0 = float32, 1 = float64
 *   rank  int, then rank longs: the shape
 *   data  little-endian values, row-major
 * crc32   long     CRC-32 of every byte before it
 * </pre>
 * Restoring reads the stream twice: once to verify the checksum and the structure, then to load, so a damaged
 * checkpoint leaves the trainer untouched. Every tensor the trainer has must be present with its shape and dtype.
 * Java serialization is not used anywhere.
 */
public final class Checkpoint {

    static final byte[] MAGIC = "SLUICECK".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 2;
    /** Bytes moved per slice: bounds the native and Java memory a checkpoint needs besides the model. */
    static final long SLICE_BYTES = 64L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoint() {}

    /** Where a checkpoint's bytes come from; opened once per pass. */
    @FunctionalInterface
    public interface Source {
        InputStream open() throws IOException;
    }

    /** What a written checkpoint is: its length and checksum (what a Flink state keeps to refer to it). */
    public record Written(long bytes, long crc32) {}

    /** The config and step at the head of a checkpoint. */
    public record Header(SpeedrunConfig config, int step) {}

    public static Path file(Path dir) {
        return dir.resolve("checkpoint.bin");
    }

    /** Writes {@code DIR/checkpoint.bin} atomically (temp file, then rename). */
    public static Written save(Trainer trainer, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "checkpoint", ".tmp");
        Written w;
        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            w = write(trainer, file);
        }
        Files.move(tmp, file(dir), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return w;
    }

    /** Writes the checkpoint to {@code sink} (flushed, not closed). */
    public static Written write(Trainer trainer, OutputStream sink) throws IOException {
        Map<String, NDArray> tensors = tensorsOf(trainer, trainer.step() > 0);
        CRC32 crc = new CRC32();
        CountingOutputStream counted = new CountingOutputStream(sink);
        DataOutputStream out = new DataOutputStream(new CheckedOutputStream(counted, crc));
        out.write(MAGIC);
        out.writeInt(VERSION);
        out.writeUTF(JSON.writeValueAsString(trainer.config()));
        out.writeInt(trainer.step());
        out.writeInt(tensors.size());
        WritableByteChannel channel = Channels.newChannel(out);
        for (var e : tensors.entrySet()) {
            NDArray a = e.getValue();
            out.writeUTF(e.getKey());
            out.writeByte(dtypeCode(a.getDataType(), e.getKey()));
            long[] shape = a.getShape().getShape();
            out.writeInt(shape.length);
            for (long s : shape) {
                out.writeLong(s);
            }
            for (Slice s : slices(shape, a.getDataType().getNumOfBytes())) {
                try (NDArray part = s.whole() ? null : a.get(s.index())) {
                    ByteBuffer bytes = (part == null ? a : part).toByteBuffer();
                    while (bytes.hasRemaining()) {
                        channel.write(bytes);
                    }
                }
            }
        }
        out.flush();
        long checksum = crc.getValue();
        DataOutputStream trailer = new DataOutputStream(counted);
        trailer.writeLong(checksum);
        trailer.flush();
        return new Written(counted.count, checksum);
    }

    /** The config and step of {@code DIR/checkpoint.bin} (to build the trainer it restores into). */
    public static Header readHeader(Path dir) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(openFile(dir)))) {
            return header(in, file(dir).toString());
        }
    }

    /** Verifies {@code DIR/checkpoint.bin} and loads it into {@code trainer}. */
    public static Header restore(Trainer trainer, Path dir) throws IOException {
        return restore(trainer, () -> openFile(dir), file(dir).toString());
    }

    /**
     * Verifies the checkpoint (checksum, structure, every tensor of the trainer present with its shape and dtype),
     * then loads weights, optimizer state and step into {@code trainer}, built from the same config. {@code where}
     * names the source in errors.
     */
    public static Header restore(Trainer trainer, Source source, String where) throws IOException {
        Autograd.off();
        Map<String, NDArray> expected = expectedTensors(trainer, where, source);
        try (CheckedInputStream checked = new CheckedInputStream(new BufferedInputStream(source.open(), 1 << 20),
                new CRC32())) {
            DataInputStream in = new DataInputStream(checked);
            Header h = header(in, where);
            int count = in.readInt();
            for (int n = 0; n < count; n++) {
                String name = in.readUTF();
                TensorHead t = tensorHead(in, name, where);
                NDArray target = expected.get(name);
                requireMatches(t, target, name, where);
                // the format is little-endian, as x86 and ARM hosts (the only ones PyTorch builds exist for) are
                ByteBuffer slice = ByteBuffer.allocateDirect((int) Math.min(SLICE_BYTES, Math.max(1, t.bytes())))
                        .order(ByteOrder.LITTLE_ENDIAN);
                for (Slice s : slices(t.shape(), t.dtype().getNumOfBytes())) {
                    readFully(in, slice, s.bytes(), name, where);
                    if (s.whole()) {
                        ByteBuffer data = slice.duplicate().flip().order(ByteOrder.LITTLE_ENDIAN);
                        target.set(t.dtype() == DataType.FLOAT64 ? data.asDoubleBuffer() : data.asFloatBuffer());
                    } else {
                        NDManager m = target.getManager();
                        try (NDArray part = m.create(slice.duplicate().flip(), s.shape(), t.dtype())) {
                            target.set(s.index(), part);
                        }
                    }
                }
            }
            trainer.restoreStep(h.step());
            return h;
        }
    }

    /** Pass one: the whole stream checked before anything is loaded; returns the trainer's tensors by name. */
    private static Map<String, NDArray> expectedTensors(Trainer trainer, String where, Source source)
            throws IOException {
        CRC32 crc = new CRC32();
        Header h;
        Set<String> seen = new LinkedHashSet<>();
        try (CheckedInputStream checked = new CheckedInputStream(new BufferedInputStream(source.open(), 1 << 20), crc)) {
            DataInputStream in = new DataInputStream(checked);
            h = header(in, where);
            int count = in.readInt();
            for (int n = 0; n < count; n++) {
                String name = in.readUTF();
                TensorHead t = tensorHead(in, name, where);
                if (!seen.add(name)) {
                    throw new IOException(where + ": tensor " + name + " appears twice");
                }
                in.skipNBytes(t.bytes());
            }
            long computed = crc.getValue();
            long stored = new DataInputStream(checked).readLong();
            if (computed != stored) {
                throw new IOException(where + " is corrupt: CRC-32 " + Long.toHexString(computed) + " != stored "
                        + Long.toHexString(stored));
            }
            if (checked.read() != -1) {
                throw new IOException(where + " has bytes after its checksum");
            }
        } catch (EOFException e) {
            throw new IOException(where + " ends early: it is truncated or not a Sluice checkpoint", e);
        }
        if (!h.config().withoutPlacement().equals(trainer.config().withoutPlacement())) {
            throw new IOException(where + " was written for another config than the trainer's (devices aside):\n  "
                    + h.config()
                    + "\n  " + trainer.config());
        }
        Map<String, NDArray> tensors = tensorsOf(trainer, h.step() > 0);
        Set<String> missing = new LinkedHashSet<>(tensors.keySet());
        missing.removeAll(seen);
        if (!missing.isEmpty()) {
            throw new IOException(where + " has no tensor " + names(missing));
        }
        seen.removeAll(tensors.keySet());
        if (!seen.isEmpty()) {
            throw new IOException(where + " has tensors the model does not: " + names(seen));
        }
        return tensors;
    }

    private static String names(Set<String> names) {
        String first = String.join(", ", names.stream().limit(8).toList());
        return names.size() <= 8 ? first : first + ", … (" + names.size() + " in all)";
    }

    private static Header header(DataInputStream in, String where) throws IOException {
        byte[] magic = in.readNBytes(MAGIC.length);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException(where + " is not a Sluice checkpoint");
        }
        int version = in.readInt();
        if (version != VERSION) {
            throw new IOException(where + " has format version " + version + "; this build reads " + VERSION);
        }
        SpeedrunConfig config = JSON.readValue(in.readUTF(), SpeedrunConfig.class);
        return new Header(config, in.readInt());
    }

    private record TensorHead(DataType dtype, long[] shape, long bytes) {}

    private static TensorHead tensorHead(DataInputStream in, String name, String where) throws IOException {
        int code = in.readByte();
        DataType dtype = switch (code) {
            case 0 -> DataType.FLOAT32;
            case 1 -> DataType.FLOAT64;
            default -> throw new IOException(where + ": tensor " + name + " has unknown dtype code " + code);
        };
        int rank = in.readInt();
        if (rank < 0 || rank > 8) {
            throw new IOException(where + ": tensor " + name + " has rank " + rank);
        }
        long[] shape = new long[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++) {
            shape[i] = in.readLong();
            if (shape[i] < 0) {
                throw new IOException(where + ": tensor " + name + " has a negative dimension " + shape[i]);
            }
            elements = Math.multiplyExact(elements, shape[i]);
        }
        return new TensorHead(dtype, shape, Math.multiplyExact(elements, (long) dtype.getNumOfBytes()));
    }

    private static void requireMatches(TensorHead t, NDArray target, String name, String where) throws IOException {
        if (!Arrays.equals(t.shape(), target.getShape().getShape())) {
            throw new IOException(where + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", the model has " + target.getShape());
        }
        if (t.dtype() != target.getDataType()) {
            throw new IOException(where + ": tensor " + name + " is " + t.dtype() + ", the model has "
                    + target.getDataType());
        }
    }

    /** {@code bytes} from {@code in} into {@code slice} (cleared first) through a small Java buffer. */
    private static void readFully(DataInputStream in, ByteBuffer slice, long bytes, String name, String where)
            throws IOException {
        slice.clear();
        byte[] chunk = new byte[(int) Math.min(1 << 20, Math.max(1, bytes))];
        long left = bytes;
        while (left > 0) {
            int n = in.read(chunk, 0, (int) Math.min(chunk.length, left));
            if (n < 0) {
                throw new IOException(where + " ends inside tensor " + name);
            }
            slice.put(chunk, 0, n);
            left -= n;
        }
    }

    /** A run of whole rows (the first dimension) of at most {@link #SLICE_BYTES}, or the whole tensor. */
    private record Slice(NDIndex index, Shape shape, long bytes, boolean whole) {}

    private static java.util.List<Slice> slices(long[] shape, int elementBytes) {
        long rowElements = 1;
        for (int i = 1; i < shape.length; i++) {
            rowElements = Math.multiplyExact(rowElements, shape[i]);
        }
        long rowBytes = rowElements * elementBytes;
        long total = shape.length == 0 ? elementBytes : Math.multiplyExact(shape[0], rowBytes);
        if (shape.length == 0 || total <= SLICE_BYTES) {
            return java.util.List.of(new Slice(null, new Shape(shape), total, true));
        }
        if (rowBytes > SLICE_BYTES) {
            throw new IllegalArgumentException("a row of " + rowBytes + " bytes exceeds the slice size " + SLICE_BYTES);
        }
        long rowsPerSlice = SLICE_BYTES / rowBytes;
        java.util.List<Slice> out = new java.util.ArrayList<>();
        for (long from = 0; from < shape[0]; from += rowsPerSlice) {
            long to = Math.min(shape[0], from + rowsPerSlice);
            long[] part = shape.clone();
            part[0] = to - from;
            out.add(new Slice(new NDIndex(from + ":" + to), new Shape(part), (to - from) * rowBytes, false));
        }
        return out;
    }

    private static byte dtypeCode(DataType dtype, String name) {
        return switch (dtype) {
            case FLOAT32 -> 0;
            case FLOAT64 -> 1;
            default -> throw new IllegalArgumentException("tensor " + name + " is " + dtype
                    + "; checkpoints hold float32 and float64");
        };
    }

    /**
     * What a checkpoint holds for {@code trainer}: every parameter and, once a step was taken, the optimizer state
     * of each (Muon's momentum for the matrices, Adam's moments for the rest); a restore creates it here to fill.
     */
    private static Map<String, NDArray> tensorsOf(Trainer trainer, boolean withOptimizerState) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (Gpt.Param p : trainer.model().parameters()) {
            tensors.put("param/" + p.name(), p.value());
            if (!withOptimizerState) {
                continue;
            }
            if (p.group() == Gpt.Group.MUON) {
                tensors.put("muon/" + p.name(), trainer.muon().state().computeIfAbsent(p.name(),
                        k -> detachedZeros(p.value())));
            } else {
                tensors.put("adam.m/" + p.name(), trainer.adam().firstMoments().computeIfAbsent(p.name(),
                        k -> detachedZeros(p.value())));
                tensors.put("adam.v/" + p.name(), trainer.adam().secondMoments().computeIfAbsent(p.name(),
                        k -> detachedZeros(p.value())));
            }
        }
        return tensors;
    }

    private static InputStream openFile(Path dir) throws IOException {
        Path f = file(dir);
        if (!Files.isRegularFile(f)) {
            throw new IOException("no checkpoint at " + f);
        }
        return Files.newInputStream(f);
    }

    private static NDArray detachedZeros(NDArray like) {
        NDArray z = like.zerosLike();
        ai.djl.ndarray.NDScope.unregister(z);
        return z;
    }

    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
