package dev.sluice.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.LibUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The bridge to libtorch's full C++ API (JavaCPP's PyTorch presets) for what DJL 0.36 lacks: fused attention and
 * casts that autograd records. Both APIs run on the one libtorch DJL loaded: DJL loads it first, then JavaCPP's JNI
 * library is pointed at the same files ({@code pathsFirst} with DJL's directory as the preload path), so the process
 * maps one {@code libtorch_cpu.so} and both sides share its allocator, autograd engine and thread pools. That copy is
 * the official build DJL ships (MKL); measured here it runs matmuls faster than JavaCPP's own OpenBLAS build (see
 * the README). {@link #load} refuses to go on if a second libtorch ends up mapped.
 *
 * <p>A DJL {@code PtNDArray}'s handle is the address of a heap {@code torch::Tensor}, and so is a JavaCPP
 * {@link Tensor}'s. {@link #view} wraps a handle without taking ownership; {@link #adopt} hands a JavaCPP result to
 * DJL, which then deletes it when its scope closes, and JavaCPP never does.
 */
public final class Torch {

    private static boolean loaded;

    private Torch() {}

    /**
     * Loads libtorch once per process (idempotent): DJL's engine, then JavaCPP's presets on the same files. Native
     * libraries bind to one class loader, so on a Flink cluster these classes must load parent-first (DJL's and
     * JavaCPP's jars in Flink's lib/, or {@code ai.djl.;org.bytedeco.} in the parent-first patterns).
     */
    public static synchronized void load() {
        if (loaded) {
            return;
        }
        Engine.getEngine("PyTorch"); // DJL loads libtorch from its own directory
        String dir = LibUtils.getLibtorchPath();
        System.setProperty("org.bytedeco.javacpp.pathsFirst", "true");
        System.setProperty("org.bytedeco.javacpp.platform.preloadpath", dir);
        // JavaCPP otherwise counts the process's resident memory against the Java heap size and refuses to
        // allocate a result once a model's native state (gigabytes, outside the heap) exceeds it
        System.setProperty("org.bytedeco.javacpp.maxBytes", "0");
        System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
        Loader.load(torch.class);
        List<String> copies = mappedCopies("libtorch_cpu.so");
        if (copies.size() > 1) {
            throw new IllegalStateException("two copies of libtorch are loaded in this process: " + copies
                    + "; JavaCPP's PyTorch presets must use DJL's (" + dir + ")");
        }
        loaded = true;
    }

    /** The distinct files named {@code name} mapped into this process (Linux; empty elsewhere). */
    public static List<String> mappedCopies(String name) {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return List.of();
        }
        try {
            return Files.readAllLines(maps).stream().map(l -> l.substring(l.lastIndexOf(' ') + 1))
                    .filter(f -> f.endsWith("/" + name)).distinct().toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + maps, e);
        }
    }

    /** A non-owning JavaCPP view of a DJL array: the same {@code torch::Tensor}, never deleted through the view. */
    static Tensor view(NDArray array) {
        return new View(((PtNDArray) array).getHandle());
    }

    /**
     * Hands a JavaCPP result to DJL, in the manager of {@code like} and the current scope; DJL deletes it when that
     * scope closes. JavaCPP's garbage-collection deallocator is disarmed, but {@code close()} on {@code result} would
     * still delete it: pass the call's result straight in and keep no other reference to it (and open no JavaCPP
     * PointerScope around calls, which would free results when it closes).
     */
    static NDArray adopt(Tensor result, NDArray like) {
        long address = result.address();
        result.deallocate(false);
        return new PtNDArray((PtNDManager) like.getManager(), address);
    }

    /** {@code array} in bfloat16 (true) or float32 (false), as an op autograd records: gradients flow back through it. */
    static NDArray cast(NDArray array, boolean bfloat16) {
        torch.ScalarType to = bfloat16 ? torch.ScalarType.BFloat16 : torch.ScalarType.Float;
        try (Tensor a = view(array)) {
            return adopt(a.to(to), array);
        }
    }

    /**
     * Copies {@code source} into {@code target} in place, across devices if they differ (a peer copy between GPUs).
     * DJL copies between arrays only through a host buffer; libtorch's {@code copy_} does not. Call with grad mode
     * off when {@code target} is a weight: autograd refuses in-place writes to a leaf that requires gradients.
     */
    static void copyInto(NDArray target, NDArray source) {
        try (Tensor t = view(target); Tensor s = view(source)) {
            t.copy_(s);
        }
    }

    /**
     * The storage of a contiguous float32 array in host memory, as native floats (a collective reads and writes it in
     * place); refused for any other array.
     */
    static FloatPointer hostFloats(NDArray array) {
        try (Tensor t = view(array)) {
            if (!t.is_cpu() || !t.is_contiguous() || t.scalar_type().value != torch.ScalarType.Float.value) {
                throw new IllegalArgumentException("a contiguous float32 array in host memory is needed, not "
                        + array.getDataType() + " on " + array.getDevice() + (t.is_contiguous() ? "" : " (not contiguous)"));
            }
            return new FloatPointer(t.data_ptr()).capacity(t.numel());
        }
    }

    /** {@code out} = a·b, written into {@code out}'s memory (no result allocated: what a matmul alone costs). */
    public static void matMulInto(NDArray out, NDArray a, NDArray b) {
        try (Tensor o = view(out); Tensor x = view(a); Tensor y = view(b)) {
            torch.mm_out(o, x, y);
        }
    }

    /**
     * softmax(q·kᵀ·scale + mask)·v over [B, H, T, hd] inputs, fused (libtorch picks its flash-attention kernel on CPU
     * for causal and masked inputs). {@code visible} is a boolean [T, T] mask (true: the key is visible), or null
     * for plain causal attention.
     */
    public static NDArray scaledDotProductAttention(NDArray q, NDArray k, NDArray v, NDArray visible, double scale) {
        // the views and optionals are closed at once: each holds a reference to its tensor until freed
        try (Tensor tq = view(q); Tensor tk = view(k); Tensor tv = view(v); Tensor tm = visible == null ? null
                : view(visible); TensorOptional mask = tm == null ? new TensorOptional() : new TensorOptional(tm);
             DoubleOptional s = new DoubleOptional(scale)) {
            return adopt(torch.scaled_dot_product_attention(tq, tk, tv, mask, 0.0, visible == null, s, false), q);
        }
    }

    /**
     * {@code array} rounded to bfloat16 and widened back to float32, recorded by autograd (its gradient is rounded
     * the same way). A float32 matmul of rounded operands whose product is rounded again gives a bf16 GEMM's numbers
     * (bf16 inputs, float32 accumulation, bf16 result) where libtorch has no fast bf16 GEMM.
     */
    static NDArray roundToBfloat16(NDArray array) {
        return cast(cast(array, true), false);
    }

    /**
     * Whether libtorch multiplies bf16 matrices fast on this host's CPU: with AVX512-BF16 or AMX. Without them its CPU
     * GEMM falls back to a scalar loop (0.7 GFLOP/s against 105 in float32 on an AVX2 EPYC here), so bf16 compute is
     * emulated there ({@link #roundToBfloat16}).
     */
    public static boolean cpuHasFastBfloat16() {
        try {
            String flags = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("flags"))
                    .findFirst().orElse("");
            return List.of(flags.split("\\s+")).stream().anyMatch(f -> f.equals("avx512_bf16") || f.equals("amx_bf16"));
        } catch (IOException e) {
            return false;
        }
    }

    /** A view that never frees: its address belongs to a DJL array. */
    private static final class View extends Tensor {
        View(long handle) {
            super((Pointer) null);
            address = handle;
        }
    }
}
