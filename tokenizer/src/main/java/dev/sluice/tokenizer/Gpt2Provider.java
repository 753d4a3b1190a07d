package dev.sluice.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.Map;

/** {@code gpt2}: OpenAI's r50k_base byte-level BPE, 50,257 ids, {@code <|endoftext|>} = 50256. */
public final class Gpt2Provider implements TokenizerProvider {

    static final int END_OF_TEXT = 50256;

    @Override
    public String name() {
        return "gpt2";
    }

    @Override
    public Tokenizer create(String argument) {
        if (argument != null) {
            throw new IllegalArgumentException("tokenizer 'gpt2' takes no argument, got 'gpt2:" + argument + "'");
        }
        // the ranks JTokkit ships (tiktoken's r50k_base file); JTokkit itself is the reference, built when asked for
        var ranks = new RankTable(TiktokenRanks.load(Encodings.class, "/com/knuddels/jtokkit/r50k_base.tiktoken",
                END_OF_TEXT));
        return new TiktokenTokenizer("gpt2", ranks, new Splitter.R50k(),
                () -> Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE),
                Map.of("<|endoftext|>", END_OF_TEXT), END_OF_TEXT, END_OF_TEXT);
    }
}
