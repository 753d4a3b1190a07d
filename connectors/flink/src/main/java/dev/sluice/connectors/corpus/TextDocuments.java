package dev.sluice.connectors.corpus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/** Plain text: the whole file is one document, or each blank-line-separated block is. */
final class TextDocuments extends LineDocuments {

    private final boolean wholeFile;

    TextDocuments(ShardContext ctx, InputStream in, boolean wholeFile, java.util.function.DoubleSupplier progress) {
        super(ctx, in, progress);
        this.wholeFile = wholeFile;
    }

    @Override
    public CorpusRecord next() throws IOException {
        return wholeFile ? wholeFile() : nextBlock();
    }

    private CorpusRecord wholeFile() throws IOException {
        if (lineNo > 0) {
            return null;
        }
        int max = ctx.options().maxDocumentBytes();
        byte[] all = in.readNBytes(max + 1);
        lineNo = 1;
        if (all.length > max) {
            return ctx.tooLarge(1, all.length);
        }
        if (all.length == 0) {
            return ctx.rejected(1, "empty document");
        }
        Utf8Text decoded = Utf8Text.decode(all, all.length);
        return ctx.document(1, ctx.shard(), decoded.text(), decoded.repaired());
    }

    private CorpusRecord nextBlock() throws IOException {
        var block = new ByteArrayOutputStream();
        long start = -1;
        boolean oversized = false;
        while (true) {
            LineReader.Line line = lines.next();
            if (line == null) {
                break;
            }
            lineNo++;
            if (line.isBlank()) {
                if (block.size() > 0 || oversized) {
                    break;
                }
                continue;
            }
            if (start < 0) {
                start = lineNo;
            }
            if (oversized || line.oversized() || block.size() + line.length() > ctx.options().maxDocumentBytes()) {
                oversized = true; // keep reading to the block's end, holding nothing
                block.reset();
                continue;
            }
            if (block.size() > 0) {
                block.write('\n');
            }
            block.write(line.bytes(), 0, line.length());
        }
        if (oversized) {
            return ctx.tooLarge(start, ctx.options().maxDocumentBytes());
        }
        if (block.size() == 0) {
            return null;
        }
        Utf8Text decoded = Utf8Text.decode(block.toByteArray(), block.size());
        return ctx.document(start, ctx.shard() + ":" + start, decoded.text(), decoded.repaired());
    }
}
