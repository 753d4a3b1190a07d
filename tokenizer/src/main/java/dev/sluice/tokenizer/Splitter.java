package dev.sluice.tokenizer;

/**
 * A pre-tokenizer: cuts text into the pieces BPE encodes one by one. Pieces are contiguous and cover the text, so a
 * splitter only says where the piece starting at {@code from} ends. The implementations are hand-written equivalents
 * of the reference regular expressions (compiled by java.util.regex with {@code UNICODE_CHARACTER_CLASS}, as JTokkit
 * does), several times faster than matching them; {@code SplitterTest} and {@code JtokkitAgreementTest} hold them to
 * the expressions.
 */
interface Splitter {

    /** The end (exclusive) of the piece that starts at {@code from}; {@code from < text.length()}. */
    int end(String text, int from);

    /** The classes the expressions test: \p{L}, \p{N}, \s (Unicode White_Space) and everything else. */
    int LETTER = 0;
    int NUMBER = 1;
    int SPACE = 2;
    int OTHER = 3;

    /** The class of a code point, as java.util.regex sees it under {@code UNICODE_CHARACTER_CLASS}. */
    static int classOf(int cp) {
        if (cp < 128) {
            return Ascii.CLASSES[cp];
        }
        int type = Character.getType(cp);
        switch (type) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                    Character.MODIFIER_LETTER, Character.OTHER_LETTER:
                return LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER:
                return NUMBER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR:
                return SPACE;
            default:
                return cp == 0x85 ? SPACE : OTHER;
        }
    }

    /** The end of the run of code points of class {@code cls} that starts at {@code from}. */
    static int runOf(String text, int from, int cls) {
        int i = from;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (c < 128) {
                if (Ascii.CLASSES[c] != cls) {
                    break;
                }
                i++;
            } else {
                int cp = text.codePointAt(i);
                if (classOf(cp) != cls) {
                    break;
                }
                i += Character.charCount(cp);
            }
        }
        return i;
    }

    /** The class of the code point at {@code i}. */
    static int classAt(String text, int i) {
        char c = text.charAt(i);
        return c < 128 ? Ascii.CLASSES[c] : classOf(text.codePointAt(i));
    }

    /** Where the code point at {@code i} ends. */
    static int next(String text, int i) {
        return i + (Character.isHighSurrogate(text.charAt(i)) && i + 1 < text.length()
                && Character.isLowSurrogate(text.charAt(i + 1)) ? 2 : 1);
    }

    /**
     * The end of a whitespace piece at {@code from} under {@code \s+(?!\S)|\s+}: the whole run at the end of the
     * text, else all of it but its last character (which goes with what follows), else the one character.
     */
    static int spaces(String text, int from) {
        int end = runOf(text, from, SPACE); // whitespace is in the BMP: one char per code point
        return end == text.length() || end - from < 2 ? end : end - 1;
    }

    /** The ASCII classes, looked up instead of asking Character for the common case. */
    final class Ascii {
        static final byte[] CLASSES = new byte[128];

        static {
            for (int c = 0; c < 128; c++) {
                CLASSES[c] = (byte) (Character.isLetter(c) ? LETTER : Character.isDigit(c) ? NUMBER
                        : (c >= 9 && c <= 13) || c == ' ' ? SPACE : OTHER);
            }
        }

        private Ascii() {}
    }

    /** r50k_base (GPT-2): {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}. */
    final class R50k implements Splitter {

        @Override
        public int end(String text, int from) {
            int n = text.length();
            char c = text.charAt(from);
            if (c == '\'' && from + 1 < n) {
                char d = text.charAt(from + 1);
                if (d == 's' || d == 'd' || d == 'm' || d == 't') {
                    return from + 2;
                }
                if (from + 2 < n) {
                    char e = text.charAt(from + 2);
                    if ((d == 'l' && e == 'l') || (d == 'v' && e == 'e') || (d == 'r' && e == 'e')) {
                        return from + 3;
                    }
                }
            }
            int cls = classAt(text, from);
            if (c == ' ' && from + 1 < n) { // the optional space of the three runs
                int after = classAt(text, from + 1);
                if (after != SPACE) {
                    return runOf(text, from + 1, after);
                }
            }
            return cls == SPACE ? spaces(text, from) : runOf(text, from, cls);
        }
    }

    /**
     * Llama 3 (Marin): {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
     * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}.
     */
    final class Llama3 implements Splitter {

        @Override
        public int end(String text, int from) {
            int n = text.length();
            char c = text.charAt(from);
            if (c == '\'' && from + 1 < n) {
                char d = text.charAt(from + 1);
                if (is(d, 's') || is(d, 't') || is(d, 'm') || is(d, 'd')) {
                    return from + 2;
                }
                if (from + 2 < n) {
                    char e = text.charAt(from + 2);
                    if ((is(d, 'r') && is(e, 'e')) || (is(d, 'v') && is(e, 'e')) || (is(d, 'l') && is(e, 'l'))) {
                        return from + 3;
                    }
                }
            }
            int cls = classAt(text, from);
            if (cls == LETTER) {
                return runOf(text, from, LETTER);
            }
            int second = next(text, from);
            if (cls != NUMBER && c != '\r' && c != '\n' && second < n && classAt(text, second) == LETTER) {
                return runOf(text, second, LETTER); // one leading non-letter, non-digit, not a line break
            }
            if (cls == NUMBER) {
                int end = from;
                for (int k = 0; k < 3 && end < n && classAt(text, end) == NUMBER; k++) {
                    end = next(text, end);
                }
                return end;
            }
            int start = c == ' ' && second < n && classAt(text, second) == OTHER ? second : from;
            if (classAt(text, start) == OTHER) {
                int end = runOf(text, start, OTHER);
                while (end < n && (text.charAt(end) == '\r' || text.charAt(end) == '\n')) {
                    end++;
                }
                return end;
            }
            int run = runOf(text, from, SPACE); // \s*[\r\n]+ : up to the run's last line break
            for (int i = run - 1; i >= from; i--) {
                if (text.charAt(i) == '\r' || text.charAt(i) == '\n') {
                    return i + 1;
                }
            }
            return spaces(text, from);
        }

        /** {@code c} matches lowercase ASCII {@code x} case-insensitively, as (?i) with Unicode case does. */
        private static boolean is(char c, char x) {
            return c == x || Character.toLowerCase(Character.toUpperCase(c)) == x;
        }
    }
}
