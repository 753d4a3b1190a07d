package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bridge's contract with both libraries: one libtorch in the process, and a DJL handle and a JavaCPP tensor
 * being the same {@code torch::Tensor}. If either library changes what a handle is, these fail before any model
 * computes garbage with it.
 */
class TorchTest {

    @BeforeAll
    static void load() {
        Torch.load();
    }

    @Test
    void oneLibtorchIsMappedAndItIsDjls() {
        assertEquals(1, Torch.mappedCopies("libtorch_cpu.so").size(), Torch.mappedCopies("libtorch_cpu.so").toString());
        assertEquals(1, Torch.mappedCopies("libc10.so").size(), Torch.mappedCopies("libc10.so").toString());
        assertTrue(Torch.mappedCopies("libtorch_cpu.so").get(0).startsWith(
                ai.djl.pytorch.jni.LibUtils.getLibtorchPath()), Torch.mappedCopies("libtorch_cpu.so").toString());
        Torch.load(); // a second call (another job in the same JVM) loads nothing
        assertEquals(1, Torch.mappedCopies("libtorch_cpu.so").size());
    }

    @Test
    void aViewIsTheDjlArrayItselfAndOwnsNothing() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray a = m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
            try (Tensor view = Torch.view(a)) {
                assertEquals(2, view.dim());
                assertEquals(2, view.size(0));
                assertEquals(3, view.size(1));
                assertEquals(21f, view.sum().item_float());
                assertEquals(1, view.use_count(), "a view must not hold a reference of its own");
                view.mul_(new org.bytedeco.pytorch.Scalar(2.0)); // writes through to DJL's array
            }
            assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12}, a.toFloatArray());
        }
    }

    @Test
    void anAdoptedResultIsFreedOnceByDjl() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray a = m.arange(6f);
            try (Tensor source = Torch.view(a)) {
                assertEquals(1, source.storage().use_count());
                NDArray alias = Torch.adopt(source.reshape(2, 3), a); // shares a's storage
                assertEquals(new Shape(2, 3), alias.getShape());
                assertEquals(DataType.FLOAT32, alias.getDataType());
                assertEquals(2, source.storage().use_count(), "a and its adopted alias");
                alias.close();
                assertEquals(1, source.storage().use_count(), "closing the DJL array released the alias, once");
                assertTrue(((PtNDArray) a).getHandle() != 0);
            }
            assertEquals(15f, a.sum().getFloat());
        }
    }

    @Test
    void castsAreRecordedByAutograd() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray w = m.create(new float[] {0.5f, -1.25f, 3f}, new Shape(3));
            w.setRequiresGradient(true);
            try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray half = Torch.cast(w, true);
                try (Tensor t = Torch.view(half)) { // DJL 0.36 reports bf16 as "unknown"
                    assertEquals(org.bytedeco.pytorch.global.torch.ScalarType.BFloat16.value, t.scalar_type().value);
                }
                gc.backward(Torch.cast(half.mul(half), false).sum());
            }
            // d/dw Σ w² = 2w, exact in bf16 for these values
            assertArrayEquals(new float[] {1f, -2.5f, 6f}, w.getGradient().toFloatArray());
            assertEquals(DataType.FLOAT32, w.getGradient().getDataType());
        }
    }
}
