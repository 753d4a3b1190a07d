package dev.sluice.connectors.corpus;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Bytes to text with the one rule for malformed UTF-8: each bad sequence becomes U+FFFD, and we say so. */
record Utf8Text(String text, boolean repaired) {

    private static final ThreadLocal<CharsetDecoder> STRICT = ThreadLocal.withInitial(() ->
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT));

    static Utf8Text decode(byte[] bytes, int length) {
        try {
            CharBuffer chars = STRICT.get().reset().decode(ByteBuffer.wrap(bytes, 0, length));
            return new Utf8Text(chars.toString(), false);
        } catch (CharacterCodingException e) {
            return new Utf8Text(new String(bytes, 0, length, StandardCharsets.UTF_8), true);
        }
    }
}
