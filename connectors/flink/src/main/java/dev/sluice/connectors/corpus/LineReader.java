package dev.sluice.connectors.corpus;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a byte stream at '\n' without decoding it, so invalid UTF-8 can be told and repaired per line, and a
 * line longer than the cap is skipped without ever being held in memory whole.
 *
 * <p>Reads a byte range as Hadoop's line readers do: a line belongs to the range holding its first byte. A reader
 * whose stream starts one byte before its range (at {@code start - 1}) first skips through the next '\n' (the line
 * the range before owns); it stops after the last line that starts before {@code end}.
 */
final class LineReader {

    /** A line's bytes in a reused buffer (valid until the next call), without the newline; {@code start} in the file. */
    record Line(byte[] bytes, int length, boolean oversized, long start) {
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
    private final long end;
    private final byte[] chunk = new byte[1 << 16];
    private int chunkPos;
    private int chunkLen;
    private byte[] line = new byte[1 << 12];
    private boolean eof;
    /** Where in the file the byte at chunkPos is. */
    private long offset;
    private boolean skipFirst;

    /** The whole stream. */
    LineReader(InputStream in, int maxBytes) {
        this(in, maxBytes, 0, Long.MAX_VALUE);
    }

    /**
     * The lines starting in [start, end) of a file; {@code in} is positioned at {@code start - 1} when start > 0
     * (so a line starting exactly at start is seen whole), else at 0.
     */
    LineReader(InputStream in, int maxBytes, long start, long end) {
        this.in = in;
        this.maxBytes = maxBytes;
        this.end = end;
        this.offset = start > 0 ? start - 1 : 0;
        this.skipFirst = start > 0;
    }

    /** The next line, or null at the end of the stream or the range. */
    Line next() throws IOException {
        if (skipFirst) {
            skipFirst = false;
            read(true);
        }
        if (offset >= end) {
            return null;
        }
        return read(false);
    }

    /** Where in the file the next line starts. */
    long offset() {
        return offset;
    }

    private Line read(boolean discard) throws IOException {
        if (eof && chunkPos >= chunkLen) {
            return null;
        }
        long lineStart = offset;
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
                    return sawAny ? new Line(line, len, total > maxBytes, lineStart) : null;
                }
            }
            sawAny = true;
            int from = chunkPos;
            while (chunkPos < chunkLen && chunk[chunkPos] != '\n') {
                chunkPos++;
            }
            int n = chunkPos - from;
            offset += n;
            total += n;
            if (!discard && total <= maxBytes) {
                if (len + n > line.length) {
                    line = Arrays.copyOf(line, Math.max(len + n, line.length * 2));
                }
                System.arraycopy(chunk, from, line, len, n);
                len += n;
            }
            if (chunkPos < chunkLen) {
                chunkPos++; // the '\n'
                offset++;
                return new Line(line, len, total > maxBytes, lineStart);
            }
        }
    }
}
