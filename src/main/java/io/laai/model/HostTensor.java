package io.laai.model;

import java.util.Arrays;

/**
 * A weight on the Java heap in float32, row-major, with its Hugging Face shape: the form every
 * loader produces before the runtime copies it to the device once.
 */
public record HostTensor(long[] shape, float[] data) implements Weight {

    public HostTensor {
        if (numel(shape) != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + numel(shape)
                    + " values, got " + data.length);
        }
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public HostTensor host() {
        return this;
    }

    @Override
    public void row(int r, float[] out) {
        int cols = cols();
        System.arraycopy(data, r * cols, out, 0, cols);
    }

    public int dim(int i) {
        return (int) shape[i];
    }

    /** Transposes a 2-D tensor (GPT-2's Conv1D stores [in, out]; the runtime wants [out, in]). */
    public HostTensor transpose2d() {
        int rows = dim(0);
        int cols = dim(1);
        float[] out = new float[data.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = data[r * cols + c];
            }
        }
        return new HostTensor(new long[] {cols, rows}, out);
    }
}
