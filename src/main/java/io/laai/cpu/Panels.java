package io.laai.cpu;

/**
 * The panel layout of F32, Q8_0 and Q4_0 matrices: rows go in panels of P (the kernels' float
 * lanes), and a panel stores its values column by column, so one vector load is one column of P
 * rows. A product then needs no sum across lanes at the end of a row (which took 40 % of a batched
 * step when rows were vectors), and every x value is broadcast once against P rows. The last panel
 * is padded with zero rows.
 *
 * <p>F32: value (row p·P + r, col i) at ((p·cols + i)·P + r). Q8_0: its int8 quant at the same
 * index of a byte array, and the block's scale (the f16 as a float, exactly) at ((p·cols/32 + b)·P
 * + r) of a float array. Q4_0: byte j of block b (the nibbles of cols b·32 + j and b·32 + 16 + j,
 * as ggml packs them) at ((p·cols/2 + b·16 + j)·P + r), scales as Q8_0's.
 */
final class Panels {

    private Panels() {
    }

    static int count(int rows, int p) {
        return (rows + p - 1) / p;
    }

    static float[] f32(float[] values, int rows, int cols, int p) {
        float[] out = new float[count(rows, p) * p * cols];
        for (int row = 0; row < rows; row++) {
            int base = (row / p) * cols * p + row % p;
            for (int i = 0; i < cols; i++) {
                out[base + i * p] = values[row * cols + i];
            }
        }
        return out;
    }

    /**
     * Q8_0 (blockBytes 34) or Q4_0 (18) blocks as ggml stores them, row after row, into the panel
     * layout: returns the quants; scales (count·P·cols/32 floats) receives the scales.
     */
    static byte[] quantized(byte[] blocks, int blockBytes, int rows, int cols, int p, float[] scales) {
        int perRow = cols / 32;
        int qb = blockBytes - 2; // quant bytes of a block: 32 (Q8_0) or 16 (Q4_0)
        byte[] out = new byte[count(rows, p) * p * perRow * qb];
        for (int row = 0; row < rows; row++) {
            int panel = row / p;
            int r = row % p;
            for (int b = 0; b < perRow; b++) {
                int o = (row * perRow + b) * blockBytes;
                scales[(panel * perRow + b) * p + r] = Kernels.f16(blocks[o], blocks[o + 1]);
                int to = ((panel * perRow + b) * qb) * p + r;
                for (int j = 0; j < qb; j++) {
                    out[to + j * p] = blocks[o + 2 + j];
                }
            }
        }
        return out;
    }

    /** Row {@code row} of an F32 panel matrix into out[at, at + cols). */
    static void rowF32(float[] w, int cols, int p, int row, float[] out, int at) {
        int base = (row / p) * cols * p + row % p;
        for (int i = 0; i < cols; i++) {
            out[at + i] = w[base + i * p];
        }
    }

    /** Row {@code row} of a Q8_0 panel matrix, decoded as llama.cpp dequantizes it (quant · scale). */
    static void rowQ8_0(byte[] q, float[] d, int cols, int p, int row, float[] out, int at) {
        int panel = row / p;
        int r = row % p;
        int perRow = cols / 32;
        for (int i = 0; i < cols; i++) {
            out[at + i] = q[(panel * cols + i) * p + r] * d[(panel * perRow + i / 32) * p + r];
        }
    }

    /** Row {@code row} of a Q4_0 panel matrix, decoded as llama.cpp dequantizes it ((nibble − 8) · scale). */
    static void rowQ4_0(byte[] q, float[] d, int cols, int p, int row, float[] out, int at) {
        int panel = row / p;
        int r = row % p;
        int perRow = cols / 32;
        for (int b = 0; b < perRow; b++) {
            float s = d[(panel * perRow + b) * p + r];
            for (int j = 0; j < 16; j++) {
                int v = q[((panel * perRow + b) * 16 + j) * p + r] & 0xff;
                out[at + b * 32 + j] = ((v & 0x0F) - 8) * s;
                out[at + b * 32 + 16 + j] = ((v >>> 4) - 8) * s;
            }
        }
    }
}
