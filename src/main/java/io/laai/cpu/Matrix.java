package io.laai.cpu;

import io.laai.model.GgufFile.GgmlType;
import io.laai.model.HostTensor;
import io.laai.model.PackedTensor;
import io.laai.model.Weight;

/**
 * A weight matrix (rows × cols, y = W·x) held as its file stores it. F32, Q8_0 and Q4_0 rows are
 * multiplied in place by the kernels; the other ggml types (F16, BF16, the K-quants…) decode one
 * row at a time into the calling thread's scratch, bit for bit as llama.cpp dequantizes them, and
 * that row serves every vector of the batch.
 */
final class Matrix {

    final String name;
    final int rows;
    final int cols;
    final GgmlType type;
    private final float[] values; // F32
    private final byte[] blocks;  // every other type
    private final Weight weight;
    private final int rowBytes;

    Matrix(String name, Weight w) {
        this.name = name;
        this.weight = w;
        this.rows = w.rows();
        this.cols = w.cols();
        if (w instanceof HostTensor h) {
            this.type = GgmlType.F32;
            this.values = h.data();
            this.blocks = null;
            this.rowBytes = cols * 4;
        } else {
            PackedTensor p = (PackedTensor) w;
            this.type = p.type();
            this.values = null;
            this.blocks = p.bytes();
            this.rowBytes = p.rowBytes();
        }
    }

    long bytes() {
        return (long) rows * rowBytes;
    }

    /** Writes row r as float32 into out[0, cols) (an embedding lookup). */
    void row(int r, float[] out, int at) {
        if (values != null) {
            System.arraycopy(values, r * cols, out, at, cols);
        } else if (at == 0) {
            weight.row(r, out);
        } else {
            float[] tmp = new float[cols];
            weight.row(r, tmp);
            System.arraycopy(tmp, 0, out, at, cols);
        }
    }

    /** Whether rows multiply in place, without decoding to scratch. */
    private boolean direct() {
        return type == GgmlType.F32 || type == GgmlType.Q8_0 || type == GgmlType.Q4_0;
    }

    /**
     * y[v·yStride + yOff + r] = W[r]·x[v·cols …] for rows r in [from, to) and the n vectors v of x.
     * One vector: F32, Q8_0 and Q4_0 rows are multiplied in place. Several: each row is decoded
     * once into the thread's scratch and serves all of them, four at a time.
     * scratch: at least cols floats, this thread's own.
     */
    void multiply(float[] x, int n, float[] y, int yStride, int yOff, int from, int to, float[] scratch) {
        Kernels k = Kernels.get();
        if (n == 1 && direct()) {
            for (int r = from; r < to; r++) {
                y[yOff + r] = dotRow(k, r, x, 0);
            }
            return;
        }
        for (int r = from; r < to; r++) {
            float[] row;
            int at;
            if (values != null) {
                row = values;
                at = r * cols;
            } else {
                decode(k, r, scratch);
                row = scratch;
                at = 0;
            }
            int v = 0;
            if (at == 0) {
                for (; v + 4 <= n; v += 4) {
                    k.dot4(row, x, v * cols, (v + 1) * cols, (v + 2) * cols, (v + 3) * cols, cols, y,
                            v * yStride + yOff + r, (v + 1) * yStride + yOff + r, (v + 2) * yStride + yOff + r,
                            (v + 3) * yStride + yOff + r);
                }
            }
            for (; v < n; v++) {
                y[v * yStride + yOff + r] = k.dot(row, at, x, v * cols, cols);
            }
        }
    }

    private void decode(Kernels k, int r, float[] out) {
        switch (type) {
            case Q8_0 -> k.decodeQ8_0(blocks, r * rowBytes, out, cols / 32);
            case Q4_0 -> k.decodeQ4_0(blocks, r * rowBytes, out, cols / 32);
            default -> weight.row(r, out);
        }
    }

    private float dotRow(Kernels k, int r, float[] x, int xo) {
        return switch (type) {
            case F32 -> k.dot(values, r * cols, x, xo, cols);
            case Q8_0 -> k.dotQ8_0(blocks, r * rowBytes, x, xo, cols / 32);
            case Q4_0 -> k.dotQ4_0(blocks, r * rowBytes, x, xo, cols / 32);
            default -> throw new IllegalStateException(type + " rows are decoded, not multiplied in place");
        };
    }
}
