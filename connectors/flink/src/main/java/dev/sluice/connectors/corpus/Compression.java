package dev.sluice.connectors.corpus;

import com.github.luben.zstd.ZstdInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/** The compressions a shard may carry, told from its file name. */
public final class Compression {

    private Compression() {}

    public static InputStream decompress(String fileName, InputStream raw) throws IOException {
        String name = fileName.toLowerCase(Locale.ROOT);
        if (name.endsWith(".gz")) {
            return new GZIPInputStream(raw, 1 << 16);
        }
        if (name.endsWith(".zst") || name.endsWith(".zstd")) {
            return new ZstdInputStream(raw);
        }
        return raw;
    }

    static boolean isCompressed(String fileName) {
        return !stripSuffix(fileName.toLowerCase(Locale.ROOT)).equals(fileName.toLowerCase(Locale.ROOT));
    }

    static String stripSuffix(String fileName) {
        for (String suffix : new String[] {".gz", ".zst", ".zstd"}) {
            if (fileName.endsWith(suffix)) {
                return fileName.substring(0, fileName.length() - suffix.length());
            }
        }
        return fileName;
    }
}
