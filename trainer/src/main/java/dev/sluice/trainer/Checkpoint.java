package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;

/**
 * Model and optimizer state in one file, {@code DIR/checkpoint.bin}, written atomically (temp file + rename).
 *
 * <pre>
 * magic   8 bytes  "SLUICECK"
 * version int      1
 * config  UTF      the SpeedrunConfig as JSON (to rebuild the model for eval)
 * step    int      steps taken (the schedules' position: they are pure functions of it)
 * count   int      number of tensors, then per tensor:
 *   name  UTF      "param/&lt;name&gt;", "muon/&lt;name&gt;", "adam.m/&lt;name&gt;", "adam.v/&lt;name&gt;"
 *   dtype byte     0 = float32, 1 = float64
 *   rank  int, then rank longs: the shape
 *   data  little-endian values
 * crc32   long     CRC-32 of every byte before it; verified on load
 * </pre>
 * Java serialization is not used anywhere.
 */
public final class Checkpoint {

    static final byte[] MAGIC = "SLUICECK".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoint() {}

    public static Path file(Path dir) {
        return dir.resolve("checkpoint.bin");
    }

    /** Writes {@code DIR/checkpoint.bin} atomically (temp file, then rename). */
    public static void save(Trainer trainer, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "checkpoint", ".tmp");
        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            write(trainer, file);
        }
        Files.move(tmp, file(dir), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The checkpoint as bytes (what a Flink operator puts in its state). */
    public static byte[] toBytes(Trainer trainer) throws IOException {
        var bytes = new java.io.ByteArrayOutputStream(1 << 20);
        write(trainer, bytes);
        return bytes.toByteArray();
    }

    /** Writes the checkpoint to {@code sink} (not closed). */
    public static void write(Trainer trainer, OutputStream sink) throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        trainer.model().parameters().forEach(p -> tensors.put("param/" + p.name(), p.value()));
        trainer.muon().state().forEach((k, v) -> tensors.put("muon/" + k, v));
        trainer.adam().firstMoments().forEach((k, v) -> tensors.put("adam.m/" + k, v));
        trainer.adam().secondMoments().forEach((k, v) -> tensors.put("adam.v/" + k, v));
        CRC32 crc = new CRC32();
        DataOutputStream out = new DataOutputStream(new CheckedOutputStream(sink, crc));
        out.write(MAGIC);
        out.writeInt(VERSION);
        out.writeUTF(JSON.writeValueAsString(trainer.config()));
        out.writeInt(trainer.step());
        out.writeInt(tensors.size());
        for (var e : tensors.entrySet()) {
            writeTensor(out, e.getKey(), e.getValue());
        }
        out.flush();
        DataOutputStream trailer = new DataOutputStream(sink);
        trailer.writeLong(crc.getValue());
        trailer.flush();
    }

    private static void writeTensor(DataOutputStream out, String name, NDArray a) throws IOException {
        out.writeUTF(name);
        boolean f64 = a.getDataType() == DataType.FLOAT64;
        out.writeByte(f64 ? 1 : 0);
        long[] shape = a.getShape().getShape();
        out.writeInt(shape.length);
        for (long s : shape) {
            out.writeLong(s);
        }
        ByteBuffer bytes = a.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] raw = new byte[bytes.remaining()];
        bytes.get(raw);
        out.write(raw);
    }

    /** What a checkpoint holds, checked: its config, step and tensors by name (raw little-endian bytes). */
    public record Contents(SpeedrunConfig config, int step, Map<String, Tensor> tensors) {}

    public record Tensor(boolean float64, long[] shape, byte[] data) {}

    /** Reads and verifies a checkpoint; a wrong magic, version or checksum is a clear error naming the file. */
    public static Contents read(Path dir) throws IOException {
        Path f = file(dir);
        if (!Files.isRegularFile(f)) {
            throw new IOException("no checkpoint at " + f);
        }
        return fromBytes(Files.readAllBytes(f), f.toString());
    }

    /** Parses and verifies checkpoint bytes; {@code f} names their origin in error messages. */
    public static Contents fromBytes(byte[] all, String f) throws IOException {
        if (all.length < MAGIC.length + 12) {
            throw new IOException(f + " is too short to be a checkpoint");
        }
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 8);
        long stored = ByteBuffer.wrap(all, all.length - 8, 8).getLong();
        if (crc.getValue() != stored) {
            throw new IOException(f + " is corrupt: CRC-32 " + Long.toHexString(crc.getValue()) + " != stored "
                    + Long.toHexString(stored));
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, 0, all.length - 8));
        byte[] magic = in.readNBytes(MAGIC.length);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new IOException(f + " is not a Sluice checkpoint");
        }
        int version = in.readInt();
        if (version != VERSION) {
            throw new IOException(f + " has format version " + version + "; this build reads " + VERSION);
        }
        SpeedrunConfig config = JSON.readValue(in.readUTF(), SpeedrunConfig.class);
        int step = in.readInt();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int n = in.readInt(); n > 0; n--) {
            String name = in.readUTF();
            boolean f64 = in.readByte() == 1;
            long[] shape = new long[in.readInt()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = in.readLong();
                count *= shape[i];
            }
            tensors.put(name, new Tensor(f64, shape, in.readNBytes((int) (count * (f64 ? 8 : 4)))));
        }
        return new Contents(config, step, tensors);
    }

    /** Loads weights and optimizer state into {@code trainer} (built from the same config) and sets its step. */
    public static void restore(Trainer trainer, Contents c) {
        Autograd.off();
        Map<String, NDArray> targets = new LinkedHashMap<>();
        trainer.model().parameters().forEach(p -> targets.put("param/" + p.name(), p.value()));
        for (var e : c.tensors().entrySet()) {
            String name = e.getKey();
            NDArray target = targets.get(name);
            if (target == null) {
                int slash = name.indexOf('/');
                String kind = name.substring(0, slash);
                String param = name.substring(slash + 1);
                NDArray like = trainer.model().param(param);
                target = switch (kind) {
                    case "muon" -> trainer.muon().state().computeIfAbsent(param, k -> detachedZeros(like));
                    case "adam.m" -> trainer.adam().firstMoments().computeIfAbsent(param, k -> detachedZeros(like));
                    case "adam.v" -> trainer.adam().secondMoments().computeIfAbsent(param, k -> detachedZeros(like));
                    default -> throw new IllegalStateException("unknown tensor " + name + " in checkpoint");
                };
            }
            Tensor t = e.getValue();
            if (!java.util.Arrays.equals(t.shape(), target.getShape().getShape())) {
                throw new IllegalStateException("checkpoint tensor " + name + " has shape "
                        + java.util.Arrays.toString(t.shape()) + ", the model has " + target.getShape());
            }
            ByteBuffer buf = ByteBuffer.allocateDirect(t.data().length).order(ByteOrder.nativeOrder());
            ByteBuffer le = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
            if (t.float64()) {
                buf.asDoubleBuffer().put(le.asDoubleBuffer());
                target.set(buf.asDoubleBuffer());
            } else {
                buf.asFloatBuffer().put(le.asFloatBuffer());
                target.set(buf.asFloatBuffer());
            }
        }
        trainer.restoreStep(c.step());
    }

    private static NDArray detachedZeros(NDArray like) {
        NDArray z = like.zerosLike();
        ai.djl.ndarray.NDScope.unregister(z);
        return z;
    }
}
