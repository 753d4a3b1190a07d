package dev.sluice.trainer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;

/**
 * Data parallelism over one host's devices: the model once per device, the first being the master whose weights
 * the optimizers update. Before a step the master's weights are copied to the other replicas; after the replicas'
 * backward passes their gradients are summed into the master's. Optimizer state lives on the master's device only.
 * With one device this is the master alone and every call is free.
 */
final class Replicas implements AutoCloseable {

    private final List<Gpt> models = new ArrayList<>();
    private final List<NDManager> managers = new ArrayList<>(); // of the replicas after the master

    /** The master (already built on the first device) and one replica per further device, built the same way. */
    Replicas(Gpt master, List<Device> devices, long seed) {
        models.add(master);
        for (Device device : devices.subList(1, devices.size())) {
            NDManager manager = NDManager.newBaseManager(device, "PyTorch");
            managers.add(manager);
            models.add(new Gpt(master.config(), manager, master.precision(), seed));
        }
        if (devices.size() > 1) {
            Torch.load(); // the copies between devices are libtorch's
        }
    }

    int size() {
        return models.size();
    }

    Gpt get(int replica) {
        return models.get(replica);
    }

    List<Device> devices() {
        return models.stream().map(m -> m.manager().getDevice()).toList();
    }

    /** Copies the master's weights to every other replica (peer copies between GPUs), so all start the step equal. */
    void broadcastWeights() {
        if (models.size() == 1) {
            return;
        }
        Autograd.off(); // in-place writes to weights
        List<Gpt.Param> master = models.get(0).parameters();
        for (Gpt replica : models.subList(1, models.size())) {
            List<Gpt.Param> params = replica.parameters();
            for (int i = 0; i < master.size(); i++) {
                Torch.copyInto(params.get(i).value(), master.get(i).value());
            }
        }
    }

    /**
     * Adds every other replica's gradients to the master's, then clears them: the master then holds the gradient of
     * the whole step, as if one device had run every micro-batch.
     */
    void sumGradientsIntoMaster() {
        if (models.size() == 1) {
            return;
        }
        List<Gpt.Param> master = models.get(0).parameters();
        Device device = models.get(0).manager().getDevice();
        for (Gpt replica : models.subList(1, models.size())) {
            List<Gpt.Param> params = replica.parameters();
            for (int i = 0; i < master.size(); i++) {
                // a scope per parameter: at most one gradient is in flight to the master's device at a time
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray sum = master.get(i).value().getGradient();
                    sum.addi(params.get(i).value().getGradient().toDevice(device, false));
                }
                JniUtils.zeroGrad((PtNDArray) params.get(i).value());
            }
        }
    }

    @Override
    public void close() {
        // the master belongs to the trainer
        for (int i = 1; i < models.size(); i++) {
            models.get(i).close();
            managers.get(i - 1).close();
        }
    }
}
