package io.laai.cpu;

import org.jboss.logging.Logger;

/**
 * The inner loops of the Java engine: products of F32, Q8_0 and Q4_0 panels ({@link Panels})
 * with vectors, dot products on float32 rows and on ggml's Q4_K and Q6_K blocks as stored, and y += a·x. {@link #get()} is the Vector API implementation where the JVM
 * was started with {@code --add-modules jdk.incubator.vector} and the CPU has 256-bit vectors or wider, plain
 * loops otherwise; chosen once, at first use, and logged.
 */
abstract class Kernels {

    private static final Logger LOG = Logger.getLogger(Kernels.class);
    private static final Kernels INSTANCE = choose();

    static Kernels get() {
        return INSTANCE;
    }

    /** The most float lanes any kernel set uses (512 bits): panels and padded KV columns fit whole in multiples of it. */
    static final int WIDEST_LANES = 16;

    /** "vector (256-bit)" or "scalar (…why…)", for logs and the benchmark. */
    abstract String name();

    abstract float dot(float[] a, int ao, float[] b, int bo, int n);

    /** The rows of a {@link Panels} panel: this kernel set's float lanes. */
    abstract int panelRows();

    /**
     * The width of the next block of a batch's vectors, with {@code remaining} vectors left: the
     * blocks {@link #panel} crosses a panel with, one kernel each.
     */
    abstract int block(int remaining);

    /**
     * n vectors of cols (vector v at x[v·cols]) interleaved into xt (n·cols): block by block
     * ({@link #block}), each block column by column, so that a block's values of one column lie
     * side by side. What {@link #panel} multiplies.
     */
    final void interleave(float[] x, int n, int cols, float[] xt) {
        for (int v = 0; v < n;) {
            int m = block(n - v);
            int base = v * cols;
            for (int j = 0; j < m; j++) {
                int from = (v + j) * cols;
                for (int i = 0; i < cols; i++) {
                    xt[base + i * m + j] = x[from + i];
                }
            }
            v += m;
        }
    }

    /**
     * One F32 panel (P rows, column-interleaved as {@link Panels} lays them out, at w[wo]) against
     * n vectors, {@link #interleave}d in xt: y[yo + v·ys + r] = row r · vector v for r &lt; valid
     * (the rows the panel really has; the padding is not written).
     */
    abstract void panel(float[] w, int wo, int cols, float[] xt, int n, float[] y, int yo, int ys, int valid);

    /** One Q8_0 panel (quants at q[qo…], scales at d[dOff…]) against one vector, multiplied in place. */
    abstract void panelQ8_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] x, int xo, float[] y, int yo, int valid);

    /**
     * Four full Q8_0 panels, {@code stride} panels apart (panel k's quants at q[qo + k·stride·cols·P],
     * scales at d[dOff + k·stride·cols/32·P], products at y[yo + k·stride·P]), against one vector:
     * four streams through memory at once, which a single stream needs to come near the memory's
     * bandwidth.
     */
    void panelsQ8_0(byte[] q, int qo, float[] d, int dOff, int stride, int cols, float[] x, int xo, float[] y, int yo) {
        int p = panelRows();
        for (int k = 0; k < 4; k++) {
            panelQ8_0(q, qo + k * stride * cols * p, d, dOff + k * stride * (cols / 32) * p, cols, x, xo, y,
                    yo + k * stride * p, p);
        }
    }

    /** One Q4_0 panel against one vector, multiplied in place. */
    abstract void panelQ4_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] x, int xo, float[] y, int yo, int valid);

    /** A Q8_0 panel decoded into out[0, cols·P), still column-interleaved: what a batch multiplies. */
    abstract void decodePanelQ8_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] out);

    /** A Q4_0 panel decoded into out[0, cols·P). */
    abstract void decodePanelQ4_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] out);

    /**
     * Σ over {@code blocks} Q4_K blocks at w[wo] (144 bytes each: f16 d and dmin, 12 bytes of 6-bit
     * scales and mins for eight groups of 32, 128 bytes of nibbles) of w·x[xo…]: per group,
     * d·scale·Σq·x − dmin·min·Σx, so the block is never written out as floats.
     */
    abstract float dotQ4_K(byte[] w, int wo, float[] x, int xo, int blocks);

    /**
     * Σ over {@code blocks} Q6_K blocks at w[wo] (210 bytes each: 128 bytes of low nibbles, 64 of
     * high bit pairs, sixteen int8 scales for groups of 16, f16 d) of w·x[xo…].
     */
    abstract float dotQ6_K(byte[] w, int wo, float[] x, int xo, int blocks);

    /** The 6-bit scale of group j (0…7) of a Q4_K block whose scales start at w[s] (llama.cpp's get_scale_min_k4). */
    static int scaleK4(byte[] w, int s, int j) {
        return j < 4 ? w[s + j] & 63 : (w[s + j + 4] & 0xF) | (((w[s + j - 4] & 0xff) >> 6) << 4);
    }

    /** The 6-bit min of group j of a Q4_K block whose scales start at w[s]. */
    static int minK4(byte[] w, int s, int j) {
        return j < 4 ? w[s + j + 4] & 63 : ((w[s + j + 4] & 0xff) >> 4) | (((w[s + j] & 0xff) >> 6) << 4);
    }

    /**
     * The dot products of a[ao, ao + n) with four vectors of x, at xo + k·xs, into y[yo + k·ys]
     * (k = 0…3): the row is read once for the four, as a matrix product over a batch wants.
     */
    abstract void dot4(float[] a, int ao, float[] x, int xo, int xs, int n, float[] y, int yo, int ys);

    /**
     * Two rows (a at a0 and a1) against four vectors of x (at xo + k·xs): y[yo + k·ys] gets row
     * a0's products and y[yo + k·ys + 1] row a1's. Each vector load then serves two rows and each
     * row load four vectors, which is what keeps a batched product fed from the caches.
     */
    abstract void dot2x4(float[] a, int a0, int a1, float[] x, int xo, int xs, int n, float[] y, int yo, int ys);

    /**
     * a[i] = e^(a[i] − max) for i in [0, n), by {@link #exp}, and their sum: a softmax's numerators
     * and denominator.
     */
    float expSum(float[] a, int n, float max) {
        float sum = 0;
        for (int i = 0; i < n; i++) {
            float e = exp(a[i] - max);
            a[i] = e;
            sum += e;
        }
        return sum;
    }

    /**
     * e^x for x ≤ 0 (a softmax's shifted scores) to about 2 ulp: x = n·ln 2 + r with |r| ≤ ln 2 / 2,
     * e^r by its degree-7 Taylor polynomial, then 2^n placed in the exponent. Math.exp costs more
     * than the rest of a short head's attention together.
     */
    static float exp(float x) {
        if (x < -87f) {
            return 0f;
        }
        // round to nearest for x ≤ 0: the int cast truncates toward zero
        float n = (int) (x * 1.44269504f - 0.5f);
        float r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
        float p = 1f + r * (1f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.008333334f
                + r * (0.0013888889f + r * 0.0001984127f))))));
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /** A score that weighs exactly 0 after the softmax's exp: the mask's own value. */
    static final float MASKED = -1e9f;

    /**
     * A query's attention scores over keys lying key-major (dimension i of key j at
     * k[kBase + i·dimStride + j]): out[j] = (q·key j)·scale + bias[biasOff + j] for j in [0, keys),
     * and {@link #MASKED} for j in [keys, padded) (columns the kernels may read past the last key);
     * returns the maximum over the keys.
     */
    float scores(float[] q, int qo, int hd, float[] k, int kBase, int dimStride, int keys, int padded, float scale,
            float[] bias, int biasOff, float[] out) {
        java.util.Arrays.fill(out, 0, keys, 0f);
        for (int i = 0; i < hd; i++) {
            axpy(q[qo + i], k, kBase + i * dimStride, out, 0, keys);
        }
        float top = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < keys; j++) {
            float s = out[j] * scale + bias[biasOff + j];
            out[j] = s;
            top = Math.max(top, s);
        }
        java.util.Arrays.fill(out, keys, padded, MASKED);
        return top;
    }

    /**
     * SwiGLU: act[ao + i] = g·σ(g)·u[uo + i] for i in [0, n), g = u[go + i], with σ(g) from
     * e^−|g| so that {@link #exp}'s range (x ≤ 0) serves every g.
     */
    void swiglu(float[] u, int go, int uo, float[] act, int ao, int n) {
        for (int i = 0; i < n; i++) {
            float g = u[go + i];
            float e = exp(-Math.abs(g));
            float sigmoid = g >= 0 ? 1f / (1f + e) : e / (1f + e);
            act[ao + i] = g * sigmoid * u[uo + i];
        }
    }

    /** y[yo, yo + n) += a · x[xo, xo + n). */
    abstract void axpy(float a, float[] x, int xo, float[] y, int yo, int n);

    static boolean vectorRequested() {
        return !"false".equalsIgnoreCase(System.getProperty("laai.vector", "true"));
    }

    private static Kernels choose() {
        String why;
        if (!vectorRequested()) {
            why = "-Dlaai.vector=false";
        } else if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            why = "start the JVM with --add-modules jdk.incubator.vector for the Vector API";
        } else {
            try {
                Kernels k = (Kernels) Class.forName("io.laai.cpu.VectorKernels").getDeclaredConstructor().newInstance();
                LOG.infof("Java engine kernels: %s", k.name());
                return k;
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                why = e.getCause() != null ? e.getCause().getMessage() : e.toString();
            }
        }
        Kernels k = new ScalarKernels(why);
        LOG.infof("Java engine kernels: %s", k.name());
        return k;
    }

    /**
     * IEEE half to float, as ggml stores block scales: bit arithmetic, not a table, since a table
     * of 65,536 floats misses the cache on every block of a large matrix.
     */
    static float f16(byte lo, byte hi) {
        int h = (lo & 0xff) | (hi & 0xff) << 8;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp != 0 && exp != 0x1f) {
            return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
        }
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        float m = mant * 0x1p-24f; // zero or subnormal
        return sign != 0 ? -m : m;
    }
}
