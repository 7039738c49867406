package io.laai.model;

/**
 * The two rotary layouts. Meta's checkpoints and GGUF rotate interleaved pairs (x0,x1),(x2,x3)…;
 * Hugging Face permutes the rows of q_proj/k_proj so that rotate-half pairs (x_i, x_{i+d/2}).
 * The runtime computes rotate-half, so GGUF Q/K rows are permuted on load.
 */
public final class Rotary {
    private Rotary() {
    }

    /** As {@link #interleavedToHalf(HostTensor, int)}, for a weight in any precision (rows move whole). */
    public static Weight interleavedToHalf(Weight w, int heads) {
        if (w instanceof HostTensor h) {
            return interleavedToHalf(h, heads);
        }
        PackedTensor p = (PackedTensor) w;
        int rows = p.rows();
        int d = rows / heads;
        int[] from = new int[rows];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < d / 2; i++) {
                for (int j = 0; j < 2; j++) {
                    from[h * d + j * (d / 2) + i] = h * d + 2 * i + j;
                }
            }
        }
        return p.permuteRows(from);
    }

    /** Rows of one head, in interleaved order (2i, 2i+1), move to (i, i + d/2): transformers' permute. */
    public static HostTensor interleavedToHalf(HostTensor w, int heads) {
        int rows = w.dim(0);
        int cols = w.shape().length > 1 ? w.dim(1) : 1;
        int d = rows / heads;
        float[] out = new float[w.data().length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < d / 2; i++) {
                for (int j = 0; j < 2; j++) {
                    int src = h * d + 2 * i + j;
                    int dst = h * d + j * (d / 2) + i;
                    System.arraycopy(w.data(), src * cols, out, dst * cols, cols);
                }
            }
        }
        return new HostTensor(w.shape(), out);
    }
}
