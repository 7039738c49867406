package io.laai.cpu;

import io.laai.model.GgufFile.GgmlType;
import io.laai.model.HostTensor;
import io.laai.model.PackedTensor;
import io.laai.model.Weight;

/**
 * A weight matrix (rows × cols, y = W·x) held in its file's precision. F32, Q8_0 and Q4_0 lie in
 * {@link Panels} (column-interleaved panels of the kernels' lane count): a single vector multiplies
 * them in place, a batch decodes a panel once and crosses it with blocks of its vectors. Other
 * types lie as the file stores them: Q4_K and Q6_K rows are multiplied in place by a single vector;
 * otherwise (F16, BF16, the other K-quants…, and those two in a batch) rows decode into the calling
 * thread's scratch, bit for bit as llama.cpp dequantizes them, and each decoded row serves every
 * vector of the batch.
 */
final class Matrix {

    final String name;
    final int rows;
    final int cols;
    final GgmlType type;
    /** Rows per panel (F32, Q8_0, Q4_0), or 0: the rows lie as in the file. */
    private final int panel;
    private final float[] values; // F32 panels
    private final byte[] blocks;  // Q8_0 and Q4_0: panel quants; other types: the file's blocks
    private final float[] scales; // Q8_0 and Q4_0: a panel's block scales
    /** The file's weight, for the types that decode through it (not held for panels: their copy is all). */
    private final Weight weight;
    private final int rowBytes;   // of the file's blocks
    /** Where a row of a type the Weight decodes (F16, the K-quants…) lands before its block slot. */
    private final ThreadLocal<float[]> rowBuffer;

    Matrix(String name, Weight w) {
        this.name = name;
        this.rows = w.rows();
        this.cols = w.cols();
        int p = Kernels.get().panelRows();
        if (w instanceof HostTensor h) {
            this.type = GgmlType.F32;
            this.panel = p;
            this.values = Panels.f32(h.data(), rows, cols, p);
            this.blocks = null;
            this.scales = null;
            this.rowBytes = cols * 4;
        } else {
            PackedTensor t = (PackedTensor) w;
            this.type = t.type();
            this.values = null;
            this.rowBytes = t.rowBytes();
            if (type == GgmlType.Q8_0 || type == GgmlType.Q4_0) {
                this.panel = p;
                this.scales = new float[Panels.count(rows, p) * p * (cols / 32)];
                this.blocks = Panels.quantized(t.bytes(), rowBytes / (cols / 32), rows, cols, p, scales);
            } else {
                this.panel = 0;
                this.scales = null;
                this.blocks = t.bytes();
            }
        }
        this.weight = panel > 0 ? null : w;
        this.rowBuffer = ThreadLocal.withInitial(() -> new float[cols]);
    }

    /** What the matrix holds, in bytes (panels with their padding). */
    long bytes() {
        if (values != null) {
            return values.length * 4L;
        }
        return blocks.length + (scales == null ? 0 : scales.length * 4L);
    }

    /** Writes row r as float32 into out[at, at + cols) (an embedding lookup). */
    void row(int r, float[] out, int at) {
        if (type == GgmlType.F32) {
            Panels.rowF32(values, cols, panel, r, out, at);
        } else if (type == GgmlType.Q8_0) {
            Panels.rowQ8_0(blocks, scales, cols, panel, r, out, at);
        } else if (type == GgmlType.Q4_0) {
            Panels.rowQ4_0(blocks, scales, cols, panel, r, out, at);
        } else if (at == 0) {
            weight.row(r, out);
        } else {
            float[] tmp = rowBuffer.get();
            weight.row(r, tmp);
            System.arraycopy(tmp, 0, out, at, cols);
        }
    }

    /** Rows taken together in a batched product of a type without panels: decoded once, then every vector passes them in L1/L2. */
    static final int ROW_BLOCK = 8;

    /** Rows a thread's scratch must hold (× the widest cols): a row block, or a decoded panel. */
    static int scratchRows() {
        return Math.max(ROW_BLOCK, Kernels.get().panelRows());
    }

    /**
     * Where a part of the rows may start, so that parts split no panel: a multiple of this.
     */
    static final int PART_ALIGN = Kernels.WIDEST_LANES;

    /**
     * y[v·yStride + yOff + r] = W[r]·x[v·cols …] for rows r in [from, to) and the n vectors v of x.
     * from: a multiple of {@link #PART_ALIGN}; to: too, or the last row. Panels: one vector
     * multiplies them in place, several cross each panel (decoded once into the scratch when
     * quantized). Other types: one vector multiplies Q4_K and Q6_K rows in place; otherwise rows go
     * by blocks of {@link #ROW_BLOCK} (decoded once into the thread's scratch), and each group of
     * four vectors crosses the block two rows at a time.
     * xt: x {@link Kernels#interleave}d, what panels take for a batch (n &gt; 1; may be null
     * otherwise, and for the types without panels). scratch: at least {@link #scratchRows()} × cols
     * floats, this thread's own.
     */
    void multiply(float[] x, float[] xt, int n, float[] y, int yStride, int yOff, int from, int to, float[] scratch) {
        Kernels k = Kernels.get();
        if (panel > 0) {
            multiplyPanels(k, n == 1 ? x : xt, n, y, yStride, yOff, from, to, scratch);
            return;
        }
        if (n == 1 && (type == GgmlType.Q4_K || type == GgmlType.Q6_K)) {
            for (int r = from; r < to; r++) {
                y[yOff + r] = type == GgmlType.Q4_K ? k.dotQ4_K(blocks, r * rowBytes, x, 0, cols / 256)
                        : k.dotQ6_K(blocks, r * rowBytes, x, 0, cols / 256);
            }
            return;
        }
        for (int r0 = from; r0 < to; r0 += ROW_BLOCK) {
            int rows = Math.min(ROW_BLOCK, to - r0);
            for (int i = 0; i < rows; i++) {
                row(r0 + i, scratch, i * cols);
            }
            int v = 0;
            for (; v + 4 <= n; v += 4) {
                int out = v * yStride + yOff + r0;
                int i = 0;
                for (; i + 2 <= rows; i += 2) {
                    k.dot2x4(scratch, i * cols, (i + 1) * cols, x, v * cols, cols, cols, y, out + i, yStride);
                }
                if (i < rows) {
                    k.dot4(scratch, i * cols, x, v * cols, cols, cols, y, out + i, yStride);
                }
            }
            for (; v < n; v++) {
                for (int i = 0; i < rows; i++) {
                    y[v * yStride + yOff + r0 + i] = k.dot(scratch, i * cols, x, v * cols, cols);
                }
            }
        }
    }

    /** Whether a batch's product takes x interleaved (the types held in panels). */
    boolean interleaved() {
        return panel > 0;
    }

    /** x: one vector, or n interleaved. */
    private void multiplyPanels(Kernels k, float[] x, int n, float[] y, int yStride, int yOff, int from, int to,
            float[] scratch) {
        if (from % panel != 0) {
            throw new IllegalArgumentException(name + ": rows from " + from + " split a panel of " + panel);
        }
        int perRow = cols / 32;
        int panelBytes = panel * (type == GgmlType.Q8_0 ? cols : cols / 2);
        if (n == 1 && type == GgmlType.Q8_0) {
            // four streams at once over the quarters of the part's full panels, then the rest one by one
            int first = from / panel;
            int quarter = (to - from) / panel / 4;
            for (int p = first; p < first + quarter; p++) {
                k.panelsQ8_0(blocks, p * panelBytes, scales, p * perRow * panel, quarter, cols, x, 0, y, yOff + p * panel);
            }
            from += 4 * quarter * panel;
        }
        for (int r0 = from; r0 < to; r0 += panel) {
            int p = r0 / panel;
            int valid = Math.min(panel, to - r0);
            if (type == GgmlType.F32) {
                k.panel(values, p * cols * panel, cols, x, n, y, yOff + r0, yStride, valid);
                continue;
            }
            int qo = p * panelBytes;
            int dOff = p * perRow * panel;
            boolean q8 = type == GgmlType.Q8_0;
            if (n == 1 && q8) {
                k.panelQ8_0(blocks, qo, scales, dOff, cols, x, 0, y, yOff + r0, valid);
            } else if (n == 1) {
                k.panelQ4_0(blocks, qo, scales, dOff, cols, x, 0, y, yOff + r0, valid);
            } else {
                if (q8) {
                    k.decodePanelQ8_0(blocks, qo, scales, dOff, cols, scratch);
                } else {
                    k.decodePanelQ4_0(blocks, qo, scales, dOff, cols, scratch);
                }
                k.panel(scratch, 0, cols, x, n, y, yOff + r0, yStride, valid);
            }
        }
    }
}
