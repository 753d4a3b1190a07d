package dev.sluice.connectors.corpus;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a byte stream at '\n' without decoding it, so invalid UTF-8 can be told and repaired per line, and a
 * line longer than the cap is skipped without ever being held in memory whole.
 */
final class LineReader {

    /** A line's bytes in a reused buffer (valid until the next call), without the newline. */
    record Line(byte[] bytes, int length, boolean oversized) {
        boolean isBlank() {
            for (int i = 0; i < length; i++) {
                if (!Character.isWhitespace(bytes[i])) {
                    return false;
                }
            }
            return !oversized;
        }
    }

    private final InputStream in;
    private final int maxBytes;
    private final byte[] chunk = new byte[1 << 16];
    private int chunkPos;
    private int chunkLen;
    private byte[] line = new byte[1 << 12];
    private boolean eof;

    LineReader(InputStream in, int maxBytes) {
        this.in = in;
        this.maxBytes = maxBytes;
    }

    /** The next line, or null at the end of the stream. */
    Line next() throws IOException {
        if (eof && chunkPos >= chunkLen) {
            return null;
        }
        int len = 0;
        long total = 0;
        boolean sawAny = false;
        while (true) {
            if (chunkPos >= chunkLen) {
                chunkLen = in.read(chunk);
                chunkPos = 0;
                if (chunkLen <= 0) {
                    chunkLen = 0;
                    eof = true;
                    return sawAny ? new Line(line, len, total > maxBytes) : null;
                }
            }
            sawAny = true;
            int start = chunkPos;
            while (chunkPos < chunkLen && chunk[chunkPos] != '\n') {
                chunkPos++;
            }
            int n = chunkPos - start;
            total += n;
            if (total <= maxBytes) {
                if (len + n > line.length) {
                    line = Arrays.copyOf(line, Math.max(len + n, line.length * 2));
                }
                System.arraycopy(chunk, start, line, len, n);
                len += n;
            }
            if (chunkPos < chunkLen) {
                chunkPos++; // the '\n'
                return new Line(line, len, total > maxBytes);
            }
        }
    }
}
