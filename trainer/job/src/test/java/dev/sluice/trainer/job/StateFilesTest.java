package dev.sluice.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.tokenizer.Tokenizers;
import dev.sluice.trainer.Micro;
import dev.sluice.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateFilesTest {

    @TempDir
    Path dir;

    List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void subsumedAndAbortedCheckpointsLoseTheirFilesAndTheNewestCompletedAreKept() throws Exception {
        try (Trainer t = new Trainer(Micro.config(), Tokenizers.load("gpt2"))) {
            StateFiles files = new StateFiles(new StateFiles.Location(dir.toUri().toString(), 2));
            for (long id = 1; id <= 5; id++) {
                files.write(id, t);
            }
            files.completed(1);
            files.completed(3); // subsumes 1 and 2; keeps the two newest completed, 1 and 3, until a third
            assertEquals(List.of("chk-1.bin", "chk-3.bin", "chk-4.bin", "chk-5.bin"), files());
            files.aborted(5);
            files.completed(4);
            assertEquals(List.of("chk-3.bin", "chk-4.bin"), files());
            files.aborted(4); // a completed checkpoint's file stays, whatever comes later
            assertEquals(List.of("chk-3.bin", "chk-4.bin"), files());
        }
    }

    @Test
    void aReferenceToAFileOfAnotherLengthIsRefused() throws Exception {
        try (Trainer t = new Trainer(Micro.config(), Tokenizers.load("gpt2"))) {
            StateFiles.Ref ref = new StateFiles(new StateFiles.Location(dir.toUri().toString(), 1)).write(7, t);
            StateFiles.restore(t, ref);
            var wrong = new StateFiles.Ref(ref.uri(), ref.bytes() + 1, ref.crc32());
            var e = assertThrows(IOException.class, () -> StateFiles.restore(t, wrong));
            assertTrue(e.getMessage().contains("the checkpoint recorded"), e.getMessage());
            Files.delete(Path.of(java.net.URI.create(ref.uri())));
            var gone = assertThrows(IOException.class, () -> StateFiles.restore(t, ref));
            assertTrue(gone.getMessage().contains("is gone"), gone.getMessage());
        }
    }
}
