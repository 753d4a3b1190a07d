package dev.sluice.connectors.corpus;

import java.io.IOException;
import java.io.InputStream;

/** What the line-based formats (JSON lines, plain text) share: the stream, its lines and the line reached. */
abstract class LineDocuments implements ShardDocuments {

    protected final ShardContext ctx;
    protected final InputStream in;
    protected final LineReader lines;
    protected long lineNo;

    LineDocuments(ShardContext ctx, InputStream in) {
        this.ctx = ctx;
        this.in = in;
        this.lines = new LineReader(in, ctx.options().maxDocumentBytes());
    }

    @Override
    public long position() {
        return lineNo;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
