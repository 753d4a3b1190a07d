package dev.sluice.trainer;

/**
 * FLOP accounting by Levanter's {@code lm_flops_per_token} (no GLU: the ReLU² MLP has two matrices): per layer the
 * MLP, the Q/K/V and output projections and the attention itself (QKᵀ, mask, AV — quadratic in seq_len, divided
 * back per token), plus lm_head. Model FLOPs = 3 · flops_per_token · training tokens (forward + backward).
 */
public final class Flops {

    private Flops() {}

    public static long perToken(ModelConfig m, int seqLen) {
        long d = m.dModel();
        long s = seqLen;
        long heads = m.nHeads();
        long hd = m.headDim();
        long mlp = 2L * 2 * d * m.mlpDim();
        long qkv = 2L * d * (heads * hd + 2 * heads * hd);
        long dense = 2L * d * d;
        long qk = 2L * s * s * heads * hd;
        long mask = 3L * s * s * heads;
        long av = 2L * s * s * hd * heads;
        long attention = (qk + mask + av) / s;
        long lmHead = 2L * d * m.vocabSize();
        return m.nLayers() * (mlp + qkv + dense + attention) + lmHead;
    }

    /** Of a speedrun: its model at its data block's seq_len. */
    public static long perToken(SpeedrunConfig c) {
        return perToken(c.model(), c.seqLen());
    }

    public static double modelFlops(SpeedrunConfig c, long tokens) {
        return 3.0 * perToken(c) * tokens;
    }
}
