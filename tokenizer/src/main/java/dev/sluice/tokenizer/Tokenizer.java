package dev.sluice.tokenizer;

import java.util.Map;
import java.util.Set;

/**
 * Text to token ids and back.
 *
 * <p>Invalid input has one behaviour everywhere: an unpaired UTF-16 surrogate is encoded as if it
 * were U+FFFD (the replacement character), the same as tiktoken does; text decoded from malformed
 * UTF-8 already carries U+FFFD in its place. Encoding never throws on text. Decoding ids that end
 * inside a multi-byte character yields U+FFFD for the partial character.
 */
public interface Tokenizer {

    /** The name a user selects it by, e.g. {@code gpt2}, {@code marin}, {@code hf:/path/tokenizer.json}. */
    String name();

    /** Ordinary encoding: special-token strings such as {@code <|endoftext|>} are plain text. */
    int[] encode(String text);

    /** Encoding where the named special tokens, where they appear in the text, become their ids. */
    int[] encode(String text, Set<String> allowedSpecials);

    /** Ids back to text; special tokens decode to their names. */
    String decode(int[] ids);

    /** Ids back to the raw UTF-8 bytes they stand for (special tokens: their names' bytes). */
    byte[] decodeBytes(int[] ids);

    /** Number of real ids (ordinary ranks plus specials). */
    int vocabSize();

    /** The vocabulary padded to a multiple of 128, the embedding size a model should use. */
    default int paddedVocabSize() {
        return (vocabSize() + 127) / 128 * 128;
    }

    /** The document delimiter placed before each document when packing. */
    int bosId();

    int eosId();

    /** Special token names to ids. */
    Map<String, Integer> specialTokens();

    /**
     * UTF-8 byte length of each id's text, indexed by id (length {@link #vocabSize()}); special
     * tokens count 0. Bits-per-byte divides by the sum of these over the target tokens.
     */
    int[] tokenByteLengths();

    /**
     * The UTF-8 bytes {@code ids} stand for, by {@link #tokenByteLengths()}: the one definition of a text's bytes
     * (bits-per-byte divides by it). For an encoded text it is the UTF-8 length of the text as encoded, a lone
     * surrogate counting as U+FFFD's three bytes.
     */
    default long byteCount(int[] ids) {
        int[] lengths = tokenByteLengths();
        long bytes = 0;
        for (int id : ids) {
            bytes += lengths[id];
        }
        return bytes;
    }
}
