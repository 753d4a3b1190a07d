package dev.sluice.trainer;

import ai.djl.ndarray.types.DataType;

/**
 * How a model holds and computes: its weights in {@code master} (the copy the optimizers update), and its matmuls,
 * attention and lm_head in bfloat16 when {@code bfloat16} is set; norms, the residual stream, the softmax of the
 * logits and the loss stay in {@code master}.
 */
public record Precision(DataType master, boolean bfloat16) {

    /** Everything in {@code master}. */
    public static Precision of(DataType master) {
        return new Precision(master, false);
    }

    /** {@code train.dtype}: float64 and float32 train in that type; bfloat16 computes on float32 master weights. */
    public static Precision named(String dtype) {
        return switch (dtype) {
            case "float64" -> of(DataType.FLOAT64);
            case "float32" -> of(DataType.FLOAT32);
            case "bfloat16" -> new Precision(DataType.FLOAT32, true);
            default -> throw new IllegalArgumentException("train.dtype must be float32, float64 or bfloat16, got "
                    + dtype);
        };
    }
}
