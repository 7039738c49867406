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
    float dotQ8_0(byte[] w, int wo, float[] x, int xo, int blocks) {
        float sum = 0;
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 34;
            float d = f16(w[o], w[o + 1]);
            int xb = xo + blk * 32;
            float s = 0;
            for (int j = 0; j < 32; j++) {
                s += w[o + 2 + j] * x[xb + j];
            }
            sum += s * d;
        }
        return sum;
    }

    @Override
    float dotQ4_0(byte[] w, int wo, float[] x, int xo, int blocks) {
        float sum = 0;
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 18;
            float d = f16(w[o], w[o + 1]);
            int xb = xo + blk * 32;
            float s = 0;
            for (int j = 0; j < 16; j++) {
                int q = w[o + 2 + j] & 0xff;
                s += ((q & 0x0F) - 8) * x[xb + j] + ((q >>> 4) - 8) * x[xb + j + 16];
            }
            sum += s * d;
        }
        return sum;
    }

    @Override
    void decodeQ8_0(byte[] w, int wo, float[] out, int at, int blocks) {
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 34;
            float d = f16(w[o], w[o + 1]);
            for (int j = 0; j < 32; j++) {
                out[at + blk * 32 + j] = w[o + 2 + j] * d;
            }
        }
    }

    @Override
    void decodeQ4_0(byte[] w, int wo, float[] out, int at, int blocks) {
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 18;
            float d = f16(w[o], w[o + 1]);
            for (int j = 0; j < 16; j++) {
                int q = w[o + 2 + j] & 0xff;
                out[at + blk * 32 + j] = ((q & 0x0F) - 8) * d;
                out[at + blk * 32 + j + 16] = ((q >>> 4) - 8) * d;
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
