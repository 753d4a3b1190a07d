package dev.sluice.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import dev.sluice.trainer.Checkpoint;
import dev.sluice.trainer.TextRows;
import dev.sluice.trainer.Trainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice eval --checkpoint DIR --text FILE}: bits-per-byte of a model on any UTF-8 text. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Scores a checkpoint on a UTF-8 text file: prints {\"bpb\", \"loss\", \"tokens\", \"bytes\"}.",
                "The text is encoded as one document ([BOS] + ids) and cut into rows of seq_len+1; a tail shorter "
                        + "than a row is not scored."})
final class EvalCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, description = "a directory holding checkpoint.bin")
    Path checkpoint;

    @Option(names = "--text", required = true, description = "a UTF-8 text file")
    Path text;

    @Option(names = "--tokenizer", description = "defaults to the checkpoint's; must have the same vocabulary")
    String tokenizer;

    @Override
    public Integer call() throws Exception {
        Checkpoint.Header contents = Checkpoint.readHeader(checkpoint);
        String name = tokenizer != null ? tokenizer : contents.config().tokenizer().spec();
        Tokenizer tok = Tokenizers.load(name);
        if (tok.paddedVocabSize() != contents.config().model().vocabSize()) {
            throw new IllegalArgumentException("tokenizer " + name + " has " + tok.paddedVocabSize()
                    + " (padded) ids; the checkpoint's model has " + contents.config().model().vocabSize());
        }
        if (!Files.isRegularFile(text)) {
            throw new IllegalArgumentException("text file " + text + " does not exist");
        }
        String body = new String(Files.readAllBytes(text), StandardCharsets.UTF_8);
        List<int[]> rows = TextRows.of(tok, List.of(body), contents.config().seqLen());
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(text + " is shorter than one row of seq_len+1 = "
                    + (contents.config().seqLen() + 1) + " tokens");
        }
        try (Trainer trainer = new Trainer(contents.config(), tok)) {
            Checkpoint.restore(trainer, checkpoint);
            Trainer.EvalResult r = trainer.evaluate(rows, 8);
            var json = new ObjectMapper().createObjectNode();
            json.put("bpb", r.bitsPerByte());
            json.put("loss", r.loss());
            json.put("tokens", r.tokens());
            json.put("bytes", r.bytes());
            System.out.println(json);
        }
        return 0;
    }
}
