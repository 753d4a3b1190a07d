package dev.sluice.jobs;

/**
 * The job jar leaves DJL and JavaCPP out. Their native libraries (PyTorch, the Rust tokenizers, JavaCPP's libtorch
 * bindings) load into one class loader per JVM, and a job's own class loader is new at every restart, so on a
 * cluster they must come from Flink's lib/.
 */
final class NativeLibraries {

    static final String DJL_LIB = "deploy/jobs/target/djl-lib";

    private NativeLibraries() {}

    /** Fails at submit time, with what to do, when the cluster's class path has no DJL. */
    static void requireDjl(String what) {
        try {
            Class.forName("ai.djl.engine.Engine", false, NativeLibraries.class.getClassLoader());
            Class.forName("org.bytedeco.javacpp.Loader", false, NativeLibraries.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException(what + " needs DJL and JavaCPP on the Flink cluster's class path, which the job jar "
                    + "leaves out (its native libraries load once per JVM, not per job): copy the jars of " + DJL_LIB
                    + " into Flink's lib/ on every JobManager and TaskManager and restart them; see the README, "
                    + "\"Submitting the job jar\"");
        }
    }
}
