package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

class DevicesTest {

    @Test
    void configNamesMapToDjlsDevices() {
        assertEquals(Device.cpu(), Devices.parse("cpu"));
        assertEquals(Device.gpu(0), Devices.parse("gpu"));
        assertEquals(Device.gpu(1), Devices.parse("gpu:1"));
        assertEquals(Device.gpu(2), Devices.parse("cuda:2"));
        for (String bad : new String[] {"tpu", "gpu0", "cuda", "gpu:-1", "GPU:0", ""}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Devices.parse(bad), bad);
            assertTrue(e.getMessage().contains("train.device must be cpu, gpu, gpu:N or cuda:N"), e.getMessage());
        }
    }

    @Test
    void aGpuConfigOnAHostWithoutCudaFailsBeforeWorkInOneLine() {
        if (Engine.getEngine("PyTorch").getGpuCount() > 0) {
            return; // a GPU host: nothing to refuse
        }
        var e = assertThrows(IllegalStateException.class, () -> Devices.require("gpu:0"));
        assertTrue(e.getMessage().startsWith("train.device gpu:0: PyTorch sees 0 CUDA device(s)"), e.getMessage());
        assertEquals(Device.cpu(), Devices.require("cpu"));
    }

    @Test
    void theAdamBranchIsClippedToTheGlobalNormOfAllItsGradients() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            List<NDArray> grads = List.of(m.create(new float[] {3, 0}), m.create(new float[] {0, 4})); // norm 5
            assertEquals(0.2, Trainer.clipFactor(grads, 1.0), 1e-12);
            assertEquals(1.0, Trainer.clipFactor(grads, 5.0), 1e-12, "at the limit: unchanged");
            assertEquals(1.0, Trainer.clipFactor(grads, 10.0), 1e-12);
        }
    }

    @Test
    void tf32MustMatchWhatLibtorchReadsFromTheEnvironment() {
        var on = java.util.Map.of(Devices.TF32_VARIABLE, "1");
        Devices.requireTf32("gpu:0", true, on);
        Devices.requireTf32("gpu:0", false, java.util.Map.of());
        Devices.requireTf32("cpu", true, java.util.Map.of()); // not a CUDA matmul: nothing to check
        var missing = assertThrows(IllegalStateException.class, () -> Devices.requireTf32("cuda:1", true,
                java.util.Map.of()));
        assertTrue(missing.getMessage().contains("train.tf32 is true but TORCH_ALLOW_TF32_CUBLAS_OVERRIDE is unset"),
                missing.getMessage());
        var unwanted = assertThrows(IllegalStateException.class, () -> Devices.requireTf32("gpu", false, on));
        assertTrue(unwanted.getMessage().contains("unset TORCH_ALLOW_TF32_CUBLAS_OVERRIDE"), unwanted.getMessage());
        assertTrue(FlopsTest.load("270m").train().tf32(), "on by default");
    }
}
