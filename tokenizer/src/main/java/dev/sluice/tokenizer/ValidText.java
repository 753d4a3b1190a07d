package dev.sluice.tokenizer;

/** The one rule for invalid text: an unpaired UTF-16 surrogate becomes U+FFFD. */
final class ValidText {

    private ValidText() {}

    static String of(String text) {
        int n = text.length();
        for (int i = 0; i < n; i++) {
            if (Character.isSurrogate(text.charAt(i))) {
                return repair(text, i);
            }
        }
        return text; // the common case: no copy
    }

    private static String repair(String text, int firstSurrogate) {
        StringBuilder sb = new StringBuilder(text.length()).append(text, 0, firstSurrogate);
        for (int i = firstSurrogate; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                sb.append(c).append(text.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                sb.append('\uFFFD');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
