package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;

/**
 * The sum and the sum of squares of an array's elements in float64, a slice at a time: a float64 copy of a whole
 * embedding (or its gradient) would be a fresh mapping of twice its size each time.
 */
record Float64Sums(double sum, double squares) {

    /** Elements per float64 slice (8 MB). */
    static final long SLICE = 1L << 20;

    static Float64Sums of(NDArray array) {
        return of(array, true);
    }

    /** The sum of squares only (the gradient clip's norm, every step: no second reduction). */
    static double squares(NDArray array) {
        return of(array, false).squares();
    }

    private static Float64Sums of(NDArray array, boolean withSum) {
        double sum = 0;
        double squares = 0;
        NDArray flat = array.reshape(-1);
        for (long from = 0; from < flat.size(); from += SLICE) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray wide = flat.get(from + ":" + Math.min(flat.size(), from + SLICE)).toType(DataType.FLOAT64, false);
                sum += withSum ? wide.sum().getDouble() : 0;
                squares += wide.square().sum().getDouble();
            }
        }
        return new Float64Sums(sum, squares);
    }
}
