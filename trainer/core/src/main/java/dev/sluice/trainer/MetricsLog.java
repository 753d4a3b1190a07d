package dev.sluice.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code metrics.jsonl}: one {@link StepMetrics} per line, appended as steps end. Its length is part of a
 * trainer's checkpoint, so a restored run cuts the lines written after it ({@link #truncate}) and writes them again.
 */
public final class MetricsLog {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private long length;

    /**
     * A new log in {@code dir}: a metrics.jsonl left there by an earlier run is emptied, so the file holds this run's
     * steps only (a report reading it must not mix two runs).
     */
    public static MetricsLog startNew(Path dir) throws IOException {
        MetricsLog log = new MetricsLog(dir, 0);
        log.truncate();
        return log;
    }

    /** The log in {@code dir}, continuing at {@code length} bytes (what a restored checkpoint recorded). */
    public MetricsLog(Path dir, long length) throws IOException {
        Files.createDirectories(dir);
        this.file = dir.resolve("metrics.jsonl");
        this.length = length;
    }

    public void append(StepMetrics m) throws IOException {
        byte[] line = (JSON.writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8);
        Files.write(file, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        length += line.length;
    }

    /** Bytes written so far (what a checkpoint records). */
    public long length() {
        return length;
    }

    /** Cuts the file back to this log's length: lines past a restored checkpoint are dropped. */
    public void truncate() throws IOException {
        if (Files.exists(file)) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(Math.min(length, raf.length()));
            }
        }
    }

    /**
     * Every complete line of {@code dir/metrics.jsonl} (none if it does not exist yet). A line still being written
     * by a running trainer has no newline yet and is left for the next read.
     */
    public static List<StepMetrics> read(Path dir) throws IOException {
        Path f = dir.resolve("metrics.jsonl");
        List<StepMetrics> out = new ArrayList<>();
        if (!Files.exists(f)) {
            return out;
        }
        String text = Files.readString(f, StandardCharsets.UTF_8);
        int start = 0;
        for (int end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
            String line = text.substring(start, end);
            if (!line.isBlank()) {
                out.add(JSON.readValue(line, StepMetrics.class));
            }
        }
        return out;
    }
}
