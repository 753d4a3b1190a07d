package dev.sluice.trainer;

import static dev.sluice.contract.config.YamlConfig.require;

import dev.sluice.contract.config.YamlConfig;
import java.util.List;
import java.util.Map;

/**
 * The GPT's shape and its speedrun features, each switchable for ablations.
 *
 * @param vocabSize embedding rows: the tokenizer's vocabulary padded to a multiple of 128 (left out of the YAML:
 *     taken from the data block's tokenizer when the speedrun loads)
 * @param dModel residual width (hidden)
 * @param nLayers blocks
 * @param nHeads attention heads; head_dim = d_model / n_heads unless {@code headDim} is set
 * @param headDim 128 in the reference configs (left out: d_model / n_heads)
 * @param mlpRatio MLP hidden = mlp_ratio · d_model (default 4)
 * @param normAfterEmbedding RMSNorm right after the token embedding
 * @param qkNorm RMSNorm on queries and keys (per head) before RoPE
 * @param ropeFraction share of each head's dims that rotate (0.5: half rotate, half stay still)
 * @param ropeBase RoPE base (default 1024)
 * @param attnScale attention logits are scaled by attn_scale / sqrt(head_dim) (1.35)
 * @param reluSquared ReLU² MLP activation (false: GELU)
 * @param residualMix per-layer {@code x = λx·x + λx0·x0} with λx, λx0 learned (init 1.1 and 0.0)
 * @param backout subtract λ·(output of the first 2/3 of the layers) before the final norm (λ init 0.5)
 * @param zeroInit zero-initialise the attention output projection, the MLP down projection and lm_head
 * @param logitSoftcap logits = cap·tanh(logits/cap); 0 turns it off
 * @param slidingWindow per-layer windowed causal attention following {@code windowPattern} and the window schedule
 * @param windowPattern per layer, cycled and aligned to end at the last layer: S = short window, L = long window
 *     (e.g. "SSSL"); it ends with L
 * @param ropeRescale rescale the rotary frequencies and temperature at each growth of the long window (modded-nanogpt's YaRN)
 * @param attention {@code sdpa} (default): libtorch's fused scaled-dot-product attention; {@code plain}: scores,
 *     scale, mask and softmax as separate ops, materialising [B, H, T, T]. The same function either way.
 * @param loss {@code chunked} (default): the lm_head and the cross-entropy over chunks of rows, never holding the
 *     [tokens, vocab] logits ({@link LmHeadLoss}); {@code full}: the whole logits through autograd, the reference
 *     path. The same function either way.
 * @param init how the matrices start: {@code modded} (default; modded-nanogpt's), {@code marin} (Haliax's, as the
 *     seed's runs used it) or {@code gpt2} (N(0, 0.02²)); zero-initialised layers stay zero under any of them
 */
public record ModelConfig(Integer vocabSize, int dModel, int nLayers, int nHeads, Integer headDim, Integer mlpRatio,
                          boolean normAfterEmbedding, boolean qkNorm, double ropeFraction, Double ropeBase,
                          double attnScale, boolean reluSquared, boolean residualMix, boolean backout,
                          boolean zeroInit, double logitSoftcap, boolean slidingWindow, String windowPattern,
                          boolean ropeRescale, String attention, String loss, String init)
        implements java.io.Serializable {

    public ModelConfig {
        headDim = headDim == null && nHeads > 0 ? Integer.valueOf(dModel / nHeads) : headDim;
        mlpRatio = mlpRatio == null ? 4 : mlpRatio;
        ropeBase = ropeBase == null ? 1024.0 : ropeBase;
        windowPattern = windowPattern == null ? "SSSL" : windowPattern;
        attention = attention == null ? "sdpa" : attention;
        loss = loss == null ? "chunked" : loss;
        init = init == null ? "modded" : init;
        require(vocabSize == null || vocabSize > 0 && vocabSize % 128 == 0, "model.vocab_size",
                "must be a positive multiple of 128 (leave it out for the tokenizer's padded vocabulary)", vocabSize);
        require(dModel > 0 && nLayers > 0 && nHeads > 0, "model.d_model/n_layers/n_heads", "must be > 0",
                dModel + "/" + nLayers + "/" + nHeads);
        require(headDim % 4 == 0, "model.head_dim", "must be a multiple of 4 (RoPE pairs)", headDim);
        require(ropeFraction >= 0 && ropeFraction <= 1, "model.rope_fraction", "must be in [0, 1]", ropeFraction);
        require(attnScale > 0, "model.attn_scale", "must be > 0", attnScale);
        require(logitSoftcap >= 0, "model.logit_softcap", "must be >= 0", logitSoftcap);
        require(attention.equals("sdpa") || attention.equals("plain"), "model.attention", "must be sdpa or plain",
                attention);
        require(loss.equals("chunked") || loss.equals("full"), "model.loss", "must be chunked or full", loss);
        require(List.of("modded", "marin", "gpt2").contains(init), "model.init", "must be modded, marin or gpt2", init);
        require(windowPattern.matches("[SL]*L"), "model.window_pattern",
                "must be letters S and L ending with L (the last layer attends over the long window)", windowPattern);
    }

    public ModelConfig withVocabSize(int v) {
        return YamlConfig.with(this, Map.of("vocab_size", v));
    }

    /** Width of the concatenated heads (n_heads · head_dim); equals d_model in the reference configs. */
    public int attnDim() {
        return nHeads * headDim;
    }

    public int mlpDim() {
        return mlpRatio * dModel;
    }

    /** The layers whose output backout subtracts: the first ⌊2L/3⌋. */
    public int backoutLayers() {
        return Math.max(1, nLayers * 2 / 3);
    }

    /** The pattern repeats backwards from the last layer, so the last layer takes its last letter, a long window. */
    public boolean isLongWindowLayer(int layer) {
        return windowPattern.charAt(Math.floorMod(layer - nLayers, windowPattern.length())) == 'L';
    }

    /** Parameters: embedding, lm_head, attention and MLP matrices, and the learned scalars. */
    public long parameters() {
        return matrixParameters() + scalarParameters();
    }

    /** Embedding, lm_head and the hidden matrices: the parameters as Levanter counts them for a token budget. */
    public long matrixParameters() {
        long perLayer = 4L * dModel * attnDim() + 2L * dModel * mlpDim();
        return 2L * vocabSize * dModel + nLayers * perLayer;
    }

    /** The learned λ scalars (residual mix per layer, backout). */
    public long scalarParameters() {
        return (residualMix ? 2L * nLayers : 0) + (backout ? 1 : 0);
    }
}
