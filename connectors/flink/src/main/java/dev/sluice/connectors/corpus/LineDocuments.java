package dev.sluice.connectors.corpus;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.DoubleSupplier;

/** What the line-based formats (JSON lines, plain text) share: the stream, its lines and the line reached. */
abstract class LineDocuments implements ShardDocuments {

    protected final ShardContext ctx;
    protected final InputStream in;
    protected final LineReader lines;
    protected long lineNo;
    private final DoubleSupplier progress;

    /** The whole stream; {@code progress} tells how far into the split reading is. */
    LineDocuments(ShardContext ctx, InputStream in, DoubleSupplier progress) {
        this(ctx, in, new LineReader(in, ctx.options().maxDocumentBytes()), progress);
    }

    LineDocuments(ShardContext ctx, InputStream in, LineReader lines, DoubleSupplier progress) {
        this.ctx = ctx;
        this.in = in;
        this.lines = lines;
        this.progress = progress;
    }

    @Override
    public long position() {
        return lineNo;
    }

    @Override
    public double progress() {
        return progress.getAsDouble();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
