package dev.sluice.trainer;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.util.cuda.CudaUtils;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Device names as configs write them ({@code cpu}, {@code gpu}, {@code gpu:N}, {@code cuda:N}) mapped to DJL's
 * devices (DJL 0.36 itself parses only {@code gpu0}-style names).
 */
public final class Devices {

    private Devices() {}

    /** Whether {@code name} is a device name this parser accepts (for config validation). */
    public static boolean isValidName(String name) {
        return name != null && name.matches("cpu|gpu|(gpu|cuda):\\d+");
    }

    public static Device parse(String name) {
        if (!isValidName(name)) {
            throw new IllegalArgumentException("train.device must be cpu, gpu, gpu:N or cuda:N (got " + name + ")");
        }
        if (name.equals("cpu")) {
            return Device.cpu();
        }
        int colon = name.indexOf(':');
        return Device.gpu(colon < 0 ? 0 : Integer.parseInt(name.substring(colon + 1)));
    }

    /** In {@code train.devices}: every CUDA device PyTorch sees on this host. */
    public static final String ALL_GPUS = "gpu:*";

    /**
     * The devices a trainer's replicas run on, first the one holding the master weights and optimizer state:
     * {@code train.devices} resolved on this host ({@value #ALL_GPUS} expanded), else {@code train.device} alone.
     */
    public static List<Device> requireAll(TrainConfig train) {
        if (train.devices().isEmpty()) {
            return List.of(require(train.device()));
        }
        if (train.devices().equals(List.of(ALL_GPUS))) {
            Engine engine = Engine.getEngine("PyTorch");
            int gpus = engine.getGpuCount();
            if (gpus == 0) {
                throw new IllegalStateException("train.devices [gpu:*]: PyTorch sees no CUDA device on this host "
                        + "(engine " + engine.getVersion() + "); see docs/gpu.md");
            }
            return IntStream.range(0, gpus).mapToObj(Device::gpu).toList();
        }
        List<Device> devices = train.devices().stream().map(Devices::require).toList();
        List<Device> gpus = devices.stream().filter(Device::isGpu).toList();
        if (gpus.size() != new HashSet<>(gpus).size()) {
            // two replicas on one card only halve its memory; the CPU may repeat (it runs the same math, for tests)
            throw new IllegalStateException("train.devices " + train.devices() + " lists a GPU twice");
        }
        return devices;
    }

    /** The device, after checking that the PyTorch engine loaded in this JVM can use it. */
    public static Device require(String name) {
        Device device = parse(name);
        if (device.isGpu()) {
            Engine engine = Engine.getEngine("PyTorch");
            int gpus = engine.getGpuCount();
            if (device.getDeviceId() >= gpus) {
                throw new IllegalStateException("train.device " + name + ": PyTorch sees " + gpus + " CUDA device(s) on "
                        + "this host (engine " + engine.getVersion() + "); set train.device: cpu, or run on a GPU host "
                        + "with a CUDA build of libtorch (see docs/gpu.md)");
            }
        }
        return device;
    }

    /** The environment variable libtorch reads once, at its first CUDA matmul, to run float32 matmuls in TF32. */
    public static final String TF32_VARIABLE = "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE";

    /**
     * Checks that the process runs CUDA float32 matmuls as {@code train.tf32} says. DJL 0.36 has no call for
     * {@code torch.backends.cuda.matmul.allow_tf32}, but libtorch honours {@value #TF32_VARIABLE}=1 in its
     * environment, which a running JVM cannot change: {@code bin/sluice} sets it, a cluster sets it in the
     * TaskManager's environment, and a mismatch fails here rather than training at the other precision.
     */
    public static void requireTf32(String deviceName, boolean tf32, Map<String, String> environment) {
        if (!parse(deviceName).isGpu()) {
            return; // TF32 is a CUDA matmul mode; CPU matmuls are float32
        }
        boolean set = "1".equals(environment.get(TF32_VARIABLE));
        if (set != tf32) {
            throw new IllegalStateException("train.tf32 is " + tf32 + " but " + TF32_VARIABLE + " is "
                    + environment.getOrDefault(TF32_VARIABLE, "unset") + " in this process; "
                    + (tf32 ? "export " + TF32_VARIABLE + "=1" : "unset " + TF32_VARIABLE)
                    + " for the trainer (bin/sluice and deploy/kubernetes set it to 1), or set train.tf32: " + set);
        }
    }

    /** The memory in use on a GPU (the whole card's, as CUDA reports it); -1 for the CPU, which DJL does not report. */
    public static long memoryInUse(Device device) {
        return device.isGpu() ? CudaUtils.getGpuMemory(device).getUsed() : -1;
    }

    /**
     * The memory a trainer on {@code name} can use: the host's available memory for the CPU (MemAvailable, else
     * the physical size), the card's for a GPU (-1 when PyTorch does not see it).
     */
    public static long memoryBytes(String name) {
        Device device = parse(name);
        if (device.isGpu()) {
            return device.getDeviceId() < Engine.getEngine("PyTorch").getGpuCount()
                    ? CudaUtils.getGpuMemory(device).getMax() : -1;
        }
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException | RuntimeException notLinux) {
            // the JVM's view below
        }
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : -1;
    }
}
