package dev.sluice.collective;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.StdString;

/** JavaCPP's mapping of {@code sluice::GlooGroup} (src/main/cpp/sluice_gloo.h); the build compiles its JNI code. */
@Platform(include = "sluice_gloo.h", link = "gloo", compiler = "cpp17")
@Namespace("sluice")
final class GlooNative {

    static {
        Loader.load();
    }

    private GlooNative() {}

    @Name("GlooGroup")
    static final class Group extends Pointer {
        static {
            Loader.load();
        }

        Group(String storeDir, String prefix, int rank, int size, String host, long timeoutMs) {
            allocate(storeDir, prefix, rank, size, host, timeoutMs);
        }

        private native void allocate(@StdString String storeDir, @StdString String prefix, int rank, int size,
                                     @StdString String host, long timeoutMs);

        native int rank();

        native int size();

        native void allreduceSum(FloatPointer data, long n);

        native void allreduceSum(DoublePointer data, long n);

        native void broadcast(Pointer data, long n, int root);

        native void barrier();
    }
}
