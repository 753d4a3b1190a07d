package dev.sluice.trainer;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.cuda.CudaUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the trainer would run on here ({@code sluice doctor}): Java, DJL, the libtorch actually loaded (version,
 * flavour and file), the devices PyTorch sees with their memory, cores, and the C allocator libtorch allocates with
 * (tcmalloc when it is mapped into the process, else glibc's with the launcher's tunables).
 */
public final class Doctor {

    private Doctor() {}

    public static ObjectNode report() throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        r.put("djl", Engine.getDjlVersion());
        Engine engine = Engine.getEngine("PyTorch"); // loads libtorch
        r.put("engine", engine.getEngineName() + " " + engine.getVersion());
        ObjectNode bridge = r.putObject("bridge");
        try {
            Torch.load();
            bridge.put("active", true);
        } catch (RuntimeException | LinkageError e) {
            bridge.put("active", false).put("error", String.valueOf(e));
        }
        bridge.put("javacpp_pytorch", org.bytedeco.pytorch.presets.torch.class.getPackage().getImplementationVersion());
        bridge.putPOJO("libtorch_cpu_copies", Torch.mappedCopies("libtorch_cpu.so"));
        bridge.put("bfloat16_matmuls_on_cpu", Torch.cpuHasFastBfloat16() ? "native (AVX512-BF16 or AMX)"
                : "emulated in float32 (this CPU has neither AVX512-BF16 nor AMX)");
        List<String> mapped = mappedLibraries();
        String libtorch = mapped.stream().filter(l -> l.contains("libtorch_cpu")).findFirst()
                .orElse(LibUtils.getLibtorchPath());
        r.put("libtorch", libtorch);
        r.put("libtorch_flavour", mapped.stream().anyMatch(l -> l.contains("libtorch_cuda")) ? "cuda" : "cpu");
        r.put("cuda_visible_to_pytorch", engine.getGpuCount());
        ArrayNode devices = r.putArray("devices");
        devices.addObject().put("name", "cpu").put("cores", Runtime.getRuntime().availableProcessors())
                .put("memory_available_bytes", Devices.memoryBytes("cpu"));
        for (int i = 0; i < engine.getGpuCount(); i++) {
            MemoryUsage m = CudaUtils.getGpuMemory(Device.gpu(i));
            devices.addObject().put("name", "gpu:" + i).put("compute_capability", CudaUtils.getComputeCapability(i))
                    .put("memory_bytes", m.getMax()).put("memory_used_bytes", m.getUsed());
        }
        boolean tcmalloc = mapped.stream().anyMatch(l -> l.contains("libtcmalloc"));
        ObjectNode allocator = r.putObject("allocator");
        allocator.put("in_use", tcmalloc ? "tcmalloc" : "system");
        allocator.put("requested", System.getenv().getOrDefault("SLUICE_MALLOC", "(not started by bin/sluice)"));
        allocator.put("tcmalloc_installed", !System.getenv().getOrDefault("SLUICE_TCMALLOC_LIB", "").isEmpty());
        allocator.put("glibc_tunables", tcmalloc ? "" : System.getenv().getOrDefault("GLIBC_TUNABLES", ""));
        r.put("ld_preload", System.getenv().getOrDefault("LD_PRELOAD", ""));
        return r;
    }

    /** Shared libraries mapped into this process (Linux), so the report names the files actually loaded. */
    private static List<String> mappedLibraries() throws IOException {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return List.of();
        }
        return Files.readAllLines(maps).stream().map(l -> l.substring(l.lastIndexOf(' ') + 1))
                .filter(l -> l.endsWith(".so") || l.contains(".so.")).distinct().toList();
    }
}
