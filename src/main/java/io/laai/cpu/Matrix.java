package io.laai.cpu;

import io.laai.model.GgufFile.GgmlType;
import io.laai.model.HostTensor;
import io.laai.model.PackedTensor;
import io.laai.model.Weight;

/**
 * A weight matrix (rows × cols, y = W·x) held as its file stores it. F32, Q8_0, Q4_0, Q4_K and
 * Q6_K rows are multiplied in place by the kernels for a single vector; otherwise (other ggml
 * types: F16, BF16, the other K-quants…; and every type in a batch) rows decode into the calling
 * thread's scratch, bit for bit as llama.cpp dequantizes them, and each decoded row serves every
 * vector of the batch.
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
    /** Where a row of a type the Weight decodes (F16, the K-quants…) lands before its block slot. */
    private final ThreadLocal<float[]> rowBuffer;

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
        this.rowBuffer = ThreadLocal.withInitial(() -> new float[cols]);
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

    /** Whether a single vector multiplies rows in place, without decoding them to scratch. */
    private boolean direct() {
        return type == GgmlType.F32 || type == GgmlType.Q8_0 || type == GgmlType.Q4_0 || type == GgmlType.Q4_K
                || type == GgmlType.Q6_K;
    }

    /** Rows taken together in a batched product: decoded once, then every vector passes them in L1/L2. */
    static final int ROW_BLOCK = 8;

    /**
     * y[v·yStride + yOff + r] = W[r]·x[v·cols …] for rows r in [from, to) and the n vectors v of x.
     * One vector: F32, Q8_0, Q4_0, Q4_K and Q6_K rows are multiplied in place. Several: rows go by blocks of
     * {@link #ROW_BLOCK} (a quantized block decoded once into the thread's scratch), and each group
     * of four vectors crosses the block two rows at a time, so neither the rows nor the vectors
     * are read from memory more than once per block.
     * scratch: at least {@link #ROW_BLOCK} × cols floats, this thread's own.
     */
    void multiply(float[] x, int n, float[] y, int yStride, int yOff, int from, int to, float[] scratch) {
        Kernels k = Kernels.get();
        if (n == 1 && direct()) {
            for (int r = from; r < to; r++) {
                y[yOff + r] = dotRow(k, r, x, 0);
            }
            return;
        }
        for (int r0 = from; r0 < to; r0 += ROW_BLOCK) {
            int rows = Math.min(ROW_BLOCK, to - r0);
            float[] src;
            int base;
            if (values != null) {
                src = values;
                base = r0 * cols;
            } else {
                for (int i = 0; i < rows; i++) {
                    decode(k, r0 + i, scratch, i * cols);
                }
                src = scratch;
                base = 0;
            }
            int v = 0;
            for (; v + 4 <= n; v += 4) {
                int out = v * yStride + yOff + r0;
                int i = 0;
                for (; i + 2 <= rows; i += 2) {
                    k.dot2x4(src, base + i * cols, base + (i + 1) * cols, x, v * cols, cols, cols, y, out + i, yStride);
                }
                if (i < rows) {
                    k.dot4(src, base + i * cols, x, v * cols, cols, cols, y, out + i, yStride);
                }
            }
            for (; v < n; v++) {
                for (int i = 0; i < rows; i++) {
                    y[v * yStride + yOff + r0 + i] = k.dot(src, base + i * cols, x, v * cols, cols);
                }
            }
        }
    }

    private void decode(Kernels k, int r, float[] out, int at) {
        switch (type) {
            case Q8_0 -> k.decodeQ8_0(blocks, r * rowBytes, out, at, cols / 32);
            case Q4_0 -> k.decodeQ4_0(blocks, r * rowBytes, out, at, cols / 32);
            default -> {
                if (at == 0) {
                    weight.row(r, out);
                } else {
                    float[] tmp = rowBuffer.get();
                    weight.row(r, tmp);
                    System.arraycopy(tmp, 0, out, at, cols);
                }
            }
        }
    }

    private float dotRow(Kernels k, int r, float[] x, int xo) {
        return switch (type) {
            case F32 -> k.dot(values, r * cols, x, xo, cols);
            case Q8_0 -> k.dotQ8_0(blocks, r * rowBytes, x, xo, cols / 32);
            case Q4_0 -> k.dotQ4_0(blocks, r * rowBytes, x, xo, cols / 32);
            case Q4_K -> k.dotQ4_K(blocks, r * rowBytes, x, xo, cols / 256);
            case Q6_K -> k.dotQ6_K(blocks, r * rowBytes, x, xo, cols / 256);
            default -> throw new IllegalStateException(type + " rows are decoded, not multiplied in place");
        };
    }
}
