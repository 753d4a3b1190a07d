package dev.sluice.trainer.job;

import dev.sluice.trainer.Checkpoint;
import dev.sluice.trainer.Trainer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's model and optimizer state, one file per Flink checkpoint in a directory any TaskManager reaches
 * (a Flink FileSystem URI: file://, s3://, hdfs://). The operator state holds only a reference to it ({@link Ref}),
 * so a checkpoint of any size streams to the file system instead of through a Java array. Files of checkpoints
 * that newer completed ones subsume are deleted, keeping the newest {@code retained} completed.
 */
final class StateFiles {

    private static final Logger LOG = LoggerFactory.getLogger(StateFiles.class);

    /** What the operator state keeps: where the file is, and its length and checksum as written. */
    record Ref(String uri, long bytes, long crc32) {}

    /** Where the files go (a Flink FileSystem URI) and how many completed checkpoints' files are kept. */
    record Location(String dir, int retained) implements java.io.Serializable {}

    private final Path dir;
    private final int retained;
    private final TreeMap<Long, Path> written = new TreeMap<>();
    private final TreeSet<Long> completed = new TreeSet<>();

    StateFiles(Location location) {
        this.dir = new Path(location.dir());
        this.retained = Math.max(1, location.retained());
    }

    /** Streams the trainer's checkpoint into this checkpoint's file. */
    Ref write(long checkpointId, Trainer trainer) throws IOException {
        Path file = new Path(dir, "chk-" + checkpointId + ".bin");
        FileSystem fs = file.getFileSystem();
        Checkpoint.Written w;
        try (OutputStream out = new BufferedOutputStream(fs.create(file, FileSystem.WriteMode.OVERWRITE), 1 << 20)) {
            w = Checkpoint.write(trainer, out);
        }
        written.put(checkpointId, file);
        return new Ref(file.toUri().toString(), w.bytes(), w.crc32());
    }

    /** Loads a referenced file into the trainer, after checking it is the file the checkpoint recorded. */
    static void restore(Trainer trainer, Ref ref) throws IOException {
        Path file = new Path(ref.uri());
        FileSystem fs = file.getFileSystem();
        if (!fs.exists(file)) {
            throw new IOException("the trainer state of this checkpoint, " + ref.uri() + ", is gone");
        }
        long length = fs.getFileStatus(file).getLen();
        if (length != ref.bytes()) {
            throw new IOException("trainer state " + ref.uri() + " has " + length + " bytes; the checkpoint recorded "
                    + ref.bytes());
        }
        Checkpoint.restore(trainer, () -> fs.open(file), ref.uri());
    }

    /** A file restored from counts as completed: it is kept until newer ones complete. */
    void restored(Ref ref) {
        Path file = new Path(ref.uri());
        String name = file.getName();
        long id = name.matches("chk-\\d+\\.bin") ? Long.parseLong(name.substring(4, name.length() - 4)) : -1;
        written.put(id, file);
        completed.add(id);
    }

    void completed(long checkpointId) {
        if (!written.containsKey(checkpointId)) {
            return;
        }
        completed.add(checkpointId);
        TreeSet<Long> keep = new TreeSet<>(completed.headSet(checkpointId, true).descendingSet().stream()
                .limit(retained).toList());
        for (Map.Entry<Long, Path> e : new TreeMap<>(written.headMap(checkpointId)).entrySet()) {
            if (!keep.contains(e.getKey())) {
                delete(e.getKey());
            }
        }
    }

    void aborted(long checkpointId) {
        if (written.containsKey(checkpointId) && !completed.contains(checkpointId)) {
            delete(checkpointId);
        }
    }

    private void delete(long id) {
        Path file = written.remove(id);
        completed.remove(id);
        try {
            file.getFileSystem().delete(file, false);
        } catch (IOException e) {
            LOG.warn("could not delete the subsumed trainer state {}: {}", file, e.toString());
        }
    }
}
