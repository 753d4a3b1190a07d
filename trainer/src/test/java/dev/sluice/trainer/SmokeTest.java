package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void fewSteps() {
        SpeedrunConfig c = SpeedrunConfig.load(Path.of("../configs/speedrun/tiny.yaml"));
        try (Trainer t = new Trainer(c, Tokenizers.load("gpt2"))) {
            Random r = new Random(1);
            List<int[]> rows = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int[] row = new int[257];
                for (int j = 0; j < row.length; j++) {
                    row[j] = r.nextInt(100);
                }
                rows.add(row);
            }
            for (int s = 0; s < 10; s++) {
                var res = t.step(rows);
                System.out.println(res);
            }
            assertTrue(t.evaluate(rows, 8).loss() < 4.0);
        }
    }
}
