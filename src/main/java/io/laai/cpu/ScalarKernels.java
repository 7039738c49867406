package io.laai.cpu;

/** {@link Kernels} as plain loops, for JVMs without the Vector API. */
final class ScalarKernels extends Kernels {

    private final String why;

    ScalarKernels(String why) {
        this.why = why;
    }

    @Override
    String name() {
        return "scalar (" + why + ")";
    }

    @Override
    float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += a[ao + i] * b[bo + i];
            s1 += a[ao + i + 1] * b[bo + i + 1];
            s2 += a[ao + i + 2] * b[bo + i + 2];
            s3 += a[ao + i + 3] * b[bo + i + 3];
        }
        for (; i < n; i++) {
            s0 += a[ao + i] * b[bo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    float dotQ4_K(byte[] w, int wo, float[] x, int xo, int blocks) {
        float sum = 0;
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 144;
            float d = f16(w[o], w[o + 1]);
            float dmin = f16(w[o + 2], w[o + 3]);
            int sc = o + 4;
            int q = o + 16;
            int xb = xo + blk * 256;
            for (int is = 0; is < 8; is += 2) {
                // 32 bytes: their low nibbles are group is, their high nibbles group is + 1
                float qx1 = 0;
                float x1 = 0;
                float qx2 = 0;
                float x2 = 0;
                for (int l = 0; l < 32; l++) {
                    int b = w[q + l] & 0xff;
                    float xa = x[xb + l];
                    float xc = x[xb + 32 + l];
                    qx1 += (b & 0xF) * xa;
                    x1 += xa;
                    qx2 += (b >> 4) * xc;
                    x2 += xc;
                }
                sum += d * scaleK4(w, sc, is) * qx1 - dmin * minK4(w, sc, is) * x1
                        + d * scaleK4(w, sc, is + 1) * qx2 - dmin * minK4(w, sc, is + 1) * x2;
                q += 32;
                xb += 64;
            }
        }
        return sum;
    }

    @Override
    float dotQ6_K(byte[] w, int wo, float[] x, int xo, int blocks) {
        float sum = 0;
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 210;
            float d = f16(w[o + 208], w[o + 209]);
            int ql = o;
            int qh = o + 128;
            int sc = o + 192;
            int xb = xo + blk * 256;
            for (int half = 0; half < 2; half++) {
                for (int is = 0; is < 2; is++) {
                    float a1 = 0;
                    float a2 = 0;
                    float a3 = 0;
                    float a4 = 0;
                    for (int l = 16 * is; l < 16 * is + 16; l++) {
                        int h = w[qh + l] & 0xff;
                        int lo = w[ql + l] & 0xff;
                        int hi = w[ql + l + 32] & 0xff;
                        a1 += (((lo & 0xF) | ((h & 3) << 4)) - 32) * x[xb + l];
                        a2 += (((hi & 0xF) | (((h >> 2) & 3) << 4)) - 32) * x[xb + l + 32];
                        a3 += (((lo >> 4) | (((h >> 4) & 3) << 4)) - 32) * x[xb + l + 64];
                        a4 += (((hi >> 4) | (((h >> 6) & 3) << 4)) - 32) * x[xb + l + 96];
                    }
                    sum += d * (w[sc + is] * a1 + w[sc + is + 2] * a2 + w[sc + is + 4] * a3 + w[sc + is + 6] * a4);
                }
                ql += 64;
                qh += 32;
                sc += 8;
                xb += 128;
            }
        }
        return sum;
    }

    /** Eight rows a panel: the inner loops over a panel's lanes are short enough to stay in registers. */
    private static final int P = 8;

    @Override
    int panelRows() {
        return P;
    }

    @Override
    int block(int remaining) {
        return 1;
    }

    @Override
    void panel(float[] w, int wo, int cols, float[] xt, int n, float[] y, int yo, int ys, int valid) {
        // blocks of one: xt is x as it was
        float[] acc = new float[P];
        for (int v = 0; v < n; v++) {
            java.util.Arrays.fill(acc, 0f);
            int xv = v * cols;
            for (int i = 0; i < cols; i++) {
                float xi = xt[xv + i];
                int o = wo + i * P;
                for (int r = 0; r < P; r++) {
                    acc[r] += w[o + r] * xi;
                }
            }
            System.arraycopy(acc, 0, y, yo + v * ys, valid);
        }
    }

    @Override
    void panelQ8_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] x, int xo, float[] y, int yo, int valid) {
        float[] acc = new float[P];
        float[] blk = new float[P];
        for (int b = 0; b < cols / 32; b++) {
            java.util.Arrays.fill(blk, 0f);
            for (int j = 0; j < 32; j++) {
                float xi = x[xo + b * 32 + j];
                int o = qo + (b * 32 + j) * P;
                for (int r = 0; r < P; r++) {
                    blk[r] += q[o + r] * xi;
                }
            }
            for (int r = 0; r < P; r++) {
                acc[r] += blk[r] * d[dOff + b * P + r];
            }
        }
        System.arraycopy(acc, 0, y, yo, valid);
    }

    @Override
    void panelQ4_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] x, int xo, float[] y, int yo, int valid) {
        float[] acc = new float[P];
        float[] blk = new float[P];
        for (int b = 0; b < cols / 32; b++) {
            java.util.Arrays.fill(blk, 0f);
            for (int j = 0; j < 16; j++) {
                float lo = x[xo + b * 32 + j];
                float hi = x[xo + b * 32 + 16 + j];
                int o = qo + (b * 16 + j) * P;
                for (int r = 0; r < P; r++) {
                    int v = q[o + r] & 0xff;
                    blk[r] += ((v & 0x0F) - 8) * lo + ((v >>> 4) - 8) * hi;
                }
            }
            for (int r = 0; r < P; r++) {
                acc[r] += blk[r] * d[dOff + b * P + r];
            }
        }
        System.arraycopy(acc, 0, y, yo, valid);
    }

    @Override
    void decodePanelQ8_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] out) {
        for (int i = 0; i < cols; i++) {
            for (int r = 0; r < P; r++) {
                out[i * P + r] = q[qo + i * P + r] * d[dOff + (i / 32) * P + r];
            }
        }
    }

    @Override
    void decodePanelQ4_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] out) {
        for (int b = 0; b < cols / 32; b++) {
            for (int j = 0; j < 16; j++) {
                for (int r = 0; r < P; r++) {
                    int v = q[qo + (b * 16 + j) * P + r] & 0xff;
                    float s = d[dOff + b * P + r];
                    out[(b * 32 + j) * P + r] = ((v & 0x0F) - 8) * s;
                    out[(b * 32 + 16 + j) * P + r] = ((v >>> 4) - 8) * s;
                }
            }
        }
    }

    @Override
    void dot4(float[] a, int ao, float[] x, int xo, int xs, int n, float[] y, int yo, int ys) {
        for (int k = 0; k < 4; k++) {
            y[yo + k * ys] = dot(a, ao, x, xo + k * xs, n);
        }
    }

    @Override
    void dot2x4(float[] a, int a0, int a1, float[] x, int xo, int xs, int n, float[] y, int yo, int ys) {
        dot4(a, a0, x, xo, xs, n, y, yo, ys);
        dot4(a, a1, x, xo, xs, n, y, yo + 1, ys);
    }

    @Override
    void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
    }
}
