package io.laai.model;

/**
 * A weight as its file holds it: float32 values ({@link HostTensor}) or ggml blocks
 * ({@link PackedTensor}: F16, BF16, Q8_0, the K-quants…), row-major with its Hugging Face shape.
 * The DJL engine widens each to float32 as it copies it to the device; the Java engine keeps it
 * in the file's precision and computes on its blocks.
 */
public sealed interface Weight permits HostTensor, PackedTensor {

    long[] shape();

    /** The values as float32 (a copy for packed weights). */
    HostTensor host();

    /** Values per row: the last dimension (the whole tensor for a vector). */
    default int cols() {
        long[] s = shape();
        return (int) s[s.length - 1];
    }

    default int rows() {
        return (int) (HostTensor.numel(shape()) / cols());
    }

    /** Writes row {@code r} as float32 into {@code out[0, cols)}. */
    void row(int r, float[] out);

    /**
     * The named weight, with the shape the config gives (a negative size matches any); missing or
     * of another shape, a {@link ModelFormatException} that names it. Both engines load through this.
     */
    static Weight require(java.util.Map<String, ? extends Weight> weights, String name, long... expected) {
        Weight t = weights.get(name);
        if (t == null) {
            throw new ModelFormatException("weight " + name + " is missing");
        }
        boolean ok = t.shape().length == expected.length;
        for (int i = 0; ok && i < expected.length; i++) {
            ok = expected[i] < 0 || expected[i] == t.shape()[i];
        }
        if (!ok) {
            throw new ModelFormatException("weight " + name + " has shape " + java.util.Arrays.toString(t.shape())
                    + ", the config needs " + java.util.Arrays.toString(expected));
        }
        return t;
    }
}
