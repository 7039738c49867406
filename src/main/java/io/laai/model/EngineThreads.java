package io.laai.model;

/**
 * libtorch's thread pools, chosen from the CPUs this process may use before the engine loads
 * (DJL reads the two system properties once). libtorch's default — as many intra-op threads as
 * cores, busy-waiting between operations — collapses when the machine is shared: a thread that
 * loses its core holds every other thread at the next barrier. LAAI runs one step's operations
 * from one thread, so inter-op parallelism has nothing to run, and half the CPUs for intra-op
 * leaves room for the process's other threads (HTTP, Kafka, the trainer beside the edge).
 */
public final class EngineThreads {

    static final String INTRA = "ai.djl.pytorch.num_threads";
    static final String INTER = "ai.djl.pytorch.num_interop_threads";

    private EngineThreads() {
    }

    /** The CPUs this process may use: the JVM reads the cgroup quota and the affinity mask. */
    public static int cpus() {
        return Runtime.getRuntime().availableProcessors();
    }

    public static int defaultIntraOp() {
        return Math.max(1, cpus() / 2);
    }

    /**
     * Sets the engine's threads unless a -D system property already did; returns "intra/inter" as
     * they will be used. Call before the first model loads.
     */
    public static String configure(Integer intraOp, Integer interOp) {
        set(INTRA, intraOp, defaultIntraOp());
        set(INTER, interOp, 1);
        return System.getProperty(INTRA) + "/" + System.getProperty(INTER);
    }

    private static void set(String property, Integer configured, int fallback) {
        if (configured != null) {
            if (configured < 1) {
                throw new IllegalArgumentException("libtorch thread counts must be at least 1, was " + configured);
            }
            System.setProperty(property, Integer.toString(configured));
        } else if (System.getProperty(property) == null) {
            System.setProperty(property, Integer.toString(fallback));
        }
    }
}
