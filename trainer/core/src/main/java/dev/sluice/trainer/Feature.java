package dev.sluice.trainer;

import dev.sluice.contract.config.YamlConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The model's switchable speedrun features, named as their {@code model:} fields in the config: what "on" and "off"
 * mean for each, and which feature another needs to do anything. Switches with a value (the RoPE fraction, the
 * attention scale, the soft-cap) are off at the plain GPT's value and on at the config's, or the seed's where the
 * config has them off.
 */
public enum Feature {
    NORM_AFTER_EMBEDDING("norm_after_embedding", false, true),
    QK_NORM("qk_norm", false, true),
    ROPE_FRACTION("rope_fraction", 1.0, 0.5),   // off: every dim rotates (standard RoPE); on: partial RoPE
    ATTN_SCALE("attn_scale", 1.0, 1.35),        // off: 1/sqrt(head_dim)
    RELU_SQUARED("relu_squared", false, true),  // off: GELU
    RESIDUAL_MIX("residual_mix", false, true),
    BACKOUT("backout", false, true),
    ZERO_INIT("zero_init", false, true),
    LOGIT_SOFTCAP("logit_softcap", 0.0, 15.0),
    SLIDING_WINDOW("sliding_window", false, true),
    ROPE_RESCALE("rope_rescale", false, true);

    /** The config field. */
    public final String field;
    private final Object off;
    private final Object seedOn;

    Feature(String field, Object off, Object seedOn) {
        this.field = field;
        this.off = off;
        this.seedOn = seedOn;
    }

    /** The feature another needs: rotary rescaling happens when the sliding window grows. */
    public Optional<Feature> requires() {
        return this == ROPE_RESCALE ? Optional.of(SLIDING_WINDOW) : Optional.empty();
    }

    /** Whether {@code model} has this feature on. */
    public boolean isOn(ModelConfig model) {
        Object value = valueIn(model);
        return value instanceof Boolean b ? b : ((Number) value).doubleValue() != ((Number) off).doubleValue();
    }

    /** {@code model} with this feature on (keeping its value if it has one) or off. */
    public ModelConfig set(ModelConfig model, boolean on) {
        if (on == isOn(model)) {
            return model;
        }
        return YamlConfig.with(model, Map.of(field, on ? seedOn : off));
    }

    private Object valueIn(ModelConfig m) {
        return switch (this) {
            case NORM_AFTER_EMBEDDING -> m.normAfterEmbedding();
            case QK_NORM -> m.qkNorm();
            case ROPE_FRACTION -> m.ropeFraction();
            case ATTN_SCALE -> m.attnScale();
            case RELU_SQUARED -> m.reluSquared();
            case RESIDUAL_MIX -> m.residualMix();
            case BACKOUT -> m.backout();
            case ZERO_INIT -> m.zeroInit();
            case LOGIT_SOFTCAP -> m.logitSoftcap();
            case SLIDING_WINDOW -> m.slidingWindow();
            case ROPE_RESCALE -> m.ropeRescale();
        };
    }

    /** The feature named {@code name} (its config field), or a refusal listing the known ones. */
    public static Feature named(String name) {
        return Arrays.stream(values()).filter(f -> f.field.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown feature '" + name + "'; known: "
                        + String.join(", ", names())));
    }

    public static List<String> names() {
        return Arrays.stream(values()).map(f -> f.field).toList();
    }
}
