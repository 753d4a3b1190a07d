package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {

    @TempDir
    Path dir;

    static StepMetrics step(int i) {
        return new StepMetrics(i, 5.0, 0.01, 1.0, 0.95, 8, 256, 2048L * (i + 1), 1000, 1e9, null, null, null, null,
                null, null, null, null);
    }

    @Test
    void aNewRunIntoAnOldOutputDirectoryStartsAnEmptyLog() throws Exception {
        MetricsLog earlier = MetricsLog.startNew(dir);
        for (int i = 0; i < 3; i++) {
            earlier.append(step(i));
        }
        MetricsLog again = MetricsLog.startNew(dir);
        again.append(step(0));
        List<StepMetrics> read = MetricsLog.read(dir);
        assertEquals(1, read.size(), Files.readString(dir.resolve("metrics.jsonl")));
        assertEquals(0, read.get(0).step());
    }

    @Test
    void aRestoreCutsBackToTheCheckpointedLength() throws Exception {
        MetricsLog log = MetricsLog.startNew(dir);
        log.append(step(0));
        long checkpointed = log.length();
        log.append(step(1));
        MetricsLog restored = new MetricsLog(dir, checkpointed);
        restored.truncate();
        restored.append(step(1));
        assertEquals(List.of(0, 1), MetricsLog.read(dir).stream().map(StepMetrics::step).toList());
    }
}
