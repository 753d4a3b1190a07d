package dev.sluice.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.Map;

/**
 * Scalars as NDArrays that live as long as the model. DJL wraps a Java number passed to an op in a zero-copy
 * tensor that autograd may keep for the backward pass after Java has freed it (gradients turn to NaN); scalars
 * made here are owned by the model's manager and never freed early.
 */
final class Constants implements AutoCloseable {

    private final NDManager manager;
    private final DataType dtype;
    private final Map<Double, NDArray> cache = new HashMap<>();

    Constants(NDManager manager, DataType dtype) {
        this.manager = manager;
        this.dtype = dtype;
    }

    NDArray of(double value) {
        return cache.computeIfAbsent(value, v -> {
            NDArray a = dtype == DataType.FLOAT64 ? manager.create(new double[] {v}, new Shape())
                    : manager.create(new float[] {v.floatValue()}, new Shape());
            NDScope.unregister(a);
            return a;
        });
    }

    @Override
    public void close() {
        cache.values().forEach(NDArray::close);
        cache.clear();
    }
}
