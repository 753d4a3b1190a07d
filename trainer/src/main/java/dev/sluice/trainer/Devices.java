package dev.sluice.trainer;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.util.cuda.CudaUtils;

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
