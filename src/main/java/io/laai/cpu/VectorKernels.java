package io.laai.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels} on the Vector API, at the CPU's width: 16 floats at a time where it has 512-bit
 * vectors (AVX-512), else 8 ({@code -Dlaai.vector.bits=256} asks for 8); a {@link Panels} panel is one
 * vector wide. Quants widen to float in registers: a single stream never writes a quantized matrix
 * out as floats, a batch one panel at a time. Loaded by name only where the
 * module is present (a JVM without it never links this class). The species are static constants:
 * C2 compiles the Vector API to plain SIMD instructions only for species it can fold.
 */
final class VectorKernels extends Kernels {

    private static final VectorSpecies<Float> F = species();
    /** Lanes of F: the rows of a panel. */
    private static final int L = F.length();
    /** As many bytes as F has lanes: one panel column of quants, widened into one float vector. */
    private static final VectorSpecies<Byte> BQ = L == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    /** The K-quant products stay at 8 lanes: their groups of 16 and 32 values widen in one step each. */
    private static final VectorSpecies<Float> Q = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> QB = ByteVector.SPECIES_64;

    private static VectorSpecies<Float> species() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        boolean narrow = "256".equals(System.getProperty("laai.vector.bits"));
        return preferred >= 512 && !narrow ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    }

    VectorKernels() {
        if (FloatVector.SPECIES_PREFERRED.vectorBitSize() < 256) {
            throw new IllegalStateException("the CPU's vectors are " + FloatVector.SPECIES_PREFERRED.vectorBitSize()
                    + "-bit; the kernels need 256");
        }
    }

    @Override
    String name() {
        return "vector (Vector API, " + F.vectorBitSize() + "-bit)";
    }

    // Several independent accumulators throughout: one FMA chain waits four cycles per step, and
    // a row of a few hundred values is too short to hide that any other way.

    @Override
    float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        FloatVector s2 = FloatVector.zero(F);
        FloatVector s3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
            s1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), s1);
            s2 = FloatVector.fromArray(F, a, ao + i + 2 * L).fma(FloatVector.fromArray(F, b, bo + i + 2 * L), s2);
            s3 = FloatVector.fromArray(F, a, ao + i + 3 * L).fma(FloatVector.fromArray(F, b, bo + i + 3 * L), s3);
        }
        for (; i + L <= n; i += L) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
        }
        float s = sum(s0.add(s1).add(s2.add(s3)));
        for (; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    @Override
    int panelRows() {
        return L;
    }

    private static FloatVector at(float v) {
        return FloatVector.broadcast(F, v);
    }

    /** Writes a panel's products: all lanes, or the first {@code valid} of the last panel. */
    private static void store(FloatVector acc, float[] y, int yo, int valid) {
        if (valid == L) {
            acc.intoArray(y, yo);
        } else {
            float[] t = new float[L];
            acc.intoArray(t, 0);
            System.arraycopy(t, 0, y, yo, valid);
        }
    }

    // A panel against a block of vectors keeps one FMA chain per vector (one FMA waits four cycles,
    // two issue a cycle: eight chains at the least), each column load serving the whole block. The
    // block's values of one column lie side by side (Kernels.interleave): with each vector's own
    // row to index, the twelve-vector kernel ran out of general registers and reached 60 billion
    // multiply-adds a second on one thread; interleaved, 66-72 (twelve) and 72 (sixteen, 18 of the
    // 32 AVX-512 registers live). Twenty-four reached 81 written out, but with the stores' helper
    // C2 stopped inlining within it (17). AVX2 has 16 registers: its blocks stop at twelve.

    @Override
    int block(int remaining) {
        if (L == 16 && remaining >= 16) {
            return 16;
        }
        return remaining >= 12 ? 12 : remaining >= 8 ? 8 : remaining >= 4 ? 4 : 1;
    }

    @Override
    void panel(float[] w, int wo, int cols, float[] xt, int n, float[] y, int yo, int ys, int valid) {
        if (valid < L) {
            // The kernels store whole vectors: a padded panel's products land here first. (A branch
            // per store in each kernel made C2 stop inlining the sixteen-vector kernel's last stores.)
            float[] whole = new float[n * L];
            panel(w, wo, cols, xt, n, whole, 0, L, L);
            for (int v = 0; v < n; v++) {
                System.arraycopy(whole, v * L, y, yo + v * ys, valid);
            }
            return;
        }
        for (int v = 0; v < n;) {
            int m = block(n - v);
            int xo = v * cols;
            int out = yo + v * ys;
            switch (m) {
                case 16 -> panel16(w, wo, cols, xt, xo, y, out, ys);
                case 12 -> panel12(w, wo, cols, xt, xo, y, out, ys);
                case 8 -> panel8(w, wo, cols, xt, xo, y, out, ys);
                case 4 -> panel4(w, wo, cols, xt, xo, y, out, ys);
                default -> panel1(w, wo, cols, xt, xo, y, out);
            }
            v += m;
        }
    }

    private static void panel16(float[] w, int wo, int cols, float[] xt, int xo, float[] y, int yo, int ys) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        FloatVector a8 = FloatVector.zero(F);
        FloatVector a9 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector a12 = FloatVector.zero(F);
        FloatVector a13 = FloatVector.zero(F);
        FloatVector a14 = FloatVector.zero(F);
        FloatVector a15 = FloatVector.zero(F);
        for (int i = 0; i < cols; i++) {
            FloatVector u = FloatVector.fromArray(F, w, wo + i * L);
            int c = xo + i * 16;
            a0 = u.fma(at(xt[c]), a0);
            a1 = u.fma(at(xt[c + 1]), a1);
            a2 = u.fma(at(xt[c + 2]), a2);
            a3 = u.fma(at(xt[c + 3]), a3);
            a4 = u.fma(at(xt[c + 4]), a4);
            a5 = u.fma(at(xt[c + 5]), a5);
            a6 = u.fma(at(xt[c + 6]), a6);
            a7 = u.fma(at(xt[c + 7]), a7);
            a8 = u.fma(at(xt[c + 8]), a8);
            a9 = u.fma(at(xt[c + 9]), a9);
            a10 = u.fma(at(xt[c + 10]), a10);
            a11 = u.fma(at(xt[c + 11]), a11);
            a12 = u.fma(at(xt[c + 12]), a12);
            a13 = u.fma(at(xt[c + 13]), a13);
            a14 = u.fma(at(xt[c + 14]), a14);
            a15 = u.fma(at(xt[c + 15]), a15);
        }
        a0.intoArray(y, yo);
        a1.intoArray(y, yo + ys);
        a2.intoArray(y, yo + 2 * ys);
        a3.intoArray(y, yo + 3 * ys);
        a4.intoArray(y, yo + 4 * ys);
        a5.intoArray(y, yo + 5 * ys);
        a6.intoArray(y, yo + 6 * ys);
        a7.intoArray(y, yo + 7 * ys);
        a8.intoArray(y, yo + 8 * ys);
        a9.intoArray(y, yo + 9 * ys);
        a10.intoArray(y, yo + 10 * ys);
        a11.intoArray(y, yo + 11 * ys);
        a12.intoArray(y, yo + 12 * ys);
        a13.intoArray(y, yo + 13 * ys);
        a14.intoArray(y, yo + 14 * ys);
        a15.intoArray(y, yo + 15 * ys);
    }

    private static void panel12(float[] w, int wo, int cols, float[] xt, int xo, float[] y, int yo, int ys) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        FloatVector a8 = FloatVector.zero(F);
        FloatVector a9 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        for (int i = 0; i < cols; i++) {
            FloatVector u = FloatVector.fromArray(F, w, wo + i * L);
            int c = xo + i * 12;
            a0 = u.fma(at(xt[c]), a0);
            a1 = u.fma(at(xt[c + 1]), a1);
            a2 = u.fma(at(xt[c + 2]), a2);
            a3 = u.fma(at(xt[c + 3]), a3);
            a4 = u.fma(at(xt[c + 4]), a4);
            a5 = u.fma(at(xt[c + 5]), a5);
            a6 = u.fma(at(xt[c + 6]), a6);
            a7 = u.fma(at(xt[c + 7]), a7);
            a8 = u.fma(at(xt[c + 8]), a8);
            a9 = u.fma(at(xt[c + 9]), a9);
            a10 = u.fma(at(xt[c + 10]), a10);
            a11 = u.fma(at(xt[c + 11]), a11);
        }
        a0.intoArray(y, yo);
        a1.intoArray(y, yo + ys);
        a2.intoArray(y, yo + 2 * ys);
        a3.intoArray(y, yo + 3 * ys);
        a4.intoArray(y, yo + 4 * ys);
        a5.intoArray(y, yo + 5 * ys);
        a6.intoArray(y, yo + 6 * ys);
        a7.intoArray(y, yo + 7 * ys);
        a8.intoArray(y, yo + 8 * ys);
        a9.intoArray(y, yo + 9 * ys);
        a10.intoArray(y, yo + 10 * ys);
        a11.intoArray(y, yo + 11 * ys);
    }

    private static void panel8(float[] w, int wo, int cols, float[] xt, int xo, float[] y, int yo, int ys) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        for (int i = 0; i < cols; i++) {
            FloatVector u = FloatVector.fromArray(F, w, wo + i * L);
            int c = xo + i * 8;
            a0 = u.fma(at(xt[c]), a0);
            a1 = u.fma(at(xt[c + 1]), a1);
            a2 = u.fma(at(xt[c + 2]), a2);
            a3 = u.fma(at(xt[c + 3]), a3);
            a4 = u.fma(at(xt[c + 4]), a4);
            a5 = u.fma(at(xt[c + 5]), a5);
            a6 = u.fma(at(xt[c + 6]), a6);
            a7 = u.fma(at(xt[c + 7]), a7);
        }
        a0.intoArray(y, yo);
        a1.intoArray(y, yo + ys);
        a2.intoArray(y, yo + 2 * ys);
        a3.intoArray(y, yo + 3 * ys);
        a4.intoArray(y, yo + 4 * ys);
        a5.intoArray(y, yo + 5 * ys);
        a6.intoArray(y, yo + 6 * ys);
        a7.intoArray(y, yo + 7 * ys);
    }

    private static void panel4(float[] w, int wo, int cols, float[] xt, int xo, float[] y, int yo, int ys) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int i = 0; i < cols; i++) {
            FloatVector u = FloatVector.fromArray(F, w, wo + i * L);
            int c = xo + i * 4;
            a0 = u.fma(at(xt[c]), a0);
            a1 = u.fma(at(xt[c + 1]), a1);
            a2 = u.fma(at(xt[c + 2]), a2);
            a3 = u.fma(at(xt[c + 3]), a3);
        }
        a0.intoArray(y, yo);
        a1.intoArray(y, yo + ys);
        a2.intoArray(y, yo + 2 * ys);
        a3.intoArray(y, yo + 3 * ys);
    }

    private static void panel1(float[] w, int wo, int cols, float[] x, int xo, float[] y, int yo) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 4 <= cols; i += 4) {
            int o = wo + i * L;
            a0 = FloatVector.fromArray(F, w, o).fma(at(x[xo + i]), a0);
            a1 = FloatVector.fromArray(F, w, o + L).fma(at(x[xo + i + 1]), a1);
            a2 = FloatVector.fromArray(F, w, o + 2 * L).fma(at(x[xo + i + 2]), a2);
            a3 = FloatVector.fromArray(F, w, o + 3 * L).fma(at(x[xo + i + 3]), a3);
        }
        for (; i < cols; i++) {
            a0 = FloatVector.fromArray(F, w, wo + i * L).fma(at(x[xo + i]), a0);
        }
        a0.add(a1).add(a2.add(a3)).intoArray(y, yo);
    }

    @Override
    void panelQ8_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] x, int xo, float[] y, int yo, int valid) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / 32; b++) {
            int o = qo + b * 32 * L;
            int xb = xo + b * 32;
            FloatVector s0 = widen(q, o).mul(at(x[xb]));
            FloatVector s1 = widen(q, o + L).mul(at(x[xb + 1]));
            FloatVector s2 = widen(q, o + 2 * L).mul(at(x[xb + 2]));
            FloatVector s3 = widen(q, o + 3 * L).mul(at(x[xb + 3]));
            for (int j = 4; j < 32; j += 4) {
                int c = o + j * L;
                s0 = widen(q, c).fma(at(x[xb + j]), s0);
                s1 = widen(q, c + L).fma(at(x[xb + j + 1]), s1);
                s2 = widen(q, c + 2 * L).fma(at(x[xb + j + 2]), s2);
                s3 = widen(q, c + 3 * L).fma(at(x[xb + j + 3]), s3);
            }
            acc = s0.add(s1).add(s2.add(s3)).fma(FloatVector.fromArray(F, d, dOff + b * L), acc);
        }
        store(acc, y, yo, valid);
    }

    // A single stream from memory: one panel at a time leaves so many conversions waiting on each
    // load that too few loads are in flight (8 billion values/s from memory against 21 from cache,
    // one thread, in a microbenchmark); four panels far apart keep four streams going and share
    // each column's broadcast of x (12-14 billion from memory, 27-29 from cache).
    @Override
    void panelsQ8_0(byte[] q, int qo, float[] d, int dOff, int stride, int cols, float[] x, int xo, float[] y, int yo) {
        int qs = stride * cols * L;
        int ds = stride * (cols / 32) * L;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int b = 0; b < cols / 32; b++) {
            int o = qo + b * 32 * L;
            int xb = xo + b * 32;
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            FloatVector t0 = s0;
            FloatVector t1 = s0;
            FloatVector t2 = s0;
            FloatVector t3 = s0;
            for (int j = 0; j < 32; j += 2) {
                FloatVector x0 = at(x[xb + j]);
                FloatVector x1 = at(x[xb + j + 1]);
                int c = o + j * L;
                s0 = widen(q, c).fma(x0, s0);
                s1 = widen(q, c + qs).fma(x0, s1);
                s2 = widen(q, c + 2 * qs).fma(x0, s2);
                s3 = widen(q, c + 3 * qs).fma(x0, s3);
                t0 = widen(q, c + L).fma(x1, t0);
                t1 = widen(q, c + qs + L).fma(x1, t1);
                t2 = widen(q, c + 2 * qs + L).fma(x1, t2);
                t3 = widen(q, c + 3 * qs + L).fma(x1, t3);
            }
            int dc = dOff + b * L;
            a0 = s0.add(t0).fma(FloatVector.fromArray(F, d, dc), a0);
            a1 = s1.add(t1).fma(FloatVector.fromArray(F, d, dc + ds), a1);
            a2 = s2.add(t2).fma(FloatVector.fromArray(F, d, dc + 2 * ds), a2);
            a3 = s3.add(t3).fma(FloatVector.fromArray(F, d, dc + 3 * ds), a3);
        }
        int ys = stride * L;
        a0.intoArray(y, yo);
        a1.intoArray(y, yo + ys);
        a2.intoArray(y, yo + 2 * ys);
        a3.intoArray(y, yo + 3 * ys);
    }

    @Override
    void panelQ4_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] x, int xo, float[] y, int yo, int valid) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / 32; b++) {
            int o = qo + b * 16 * L;
            int xb = xo + b * 32;
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = FloatVector.zero(F);
            FloatVector s2 = FloatVector.zero(F);
            FloatVector s3 = FloatVector.zero(F);
            for (int j = 0; j < 16; j += 2) {
                ByteVector p0 = ByteVector.fromArray(BQ, q, o + j * L);
                ByteVector p1 = ByteVector.fromArray(BQ, q, o + (j + 1) * L);
                s0 = low(p0).fma(at(x[xb + j]), s0);
                s1 = high(p0).fma(at(x[xb + 16 + j]), s1);
                s2 = low(p1).fma(at(x[xb + j + 1]), s2);
                s3 = high(p1).fma(at(x[xb + 17 + j]), s3);
            }
            acc = s0.add(s1).add(s2.add(s3)).fma(FloatVector.fromArray(F, d, dOff + b * L), acc);
        }
        store(acc, y, yo, valid);
    }

    /** The low nibbles of L packed Q4_0 bytes, less 8, as floats. */
    private static FloatVector low(ByteVector packed) {
        return (FloatVector) packed.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
    }

    /** Their high nibbles, less 8. */
    private static FloatVector high(ByteVector packed) {
        return (FloatVector) packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8)
                .convertShape(VectorOperators.B2F, F, 0);
    }

    @Override
    void decodePanelQ8_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] out) {
        for (int b = 0; b < cols / 32; b++) {
            FloatVector s = FloatVector.fromArray(F, d, dOff + b * L);
            for (int j = 0; j < 32; j++) {
                int i = b * 32 + j;
                widen(q, qo + i * L).mul(s).intoArray(out, i * L);
            }
        }
    }

    @Override
    void decodePanelQ4_0(byte[] q, int qo, float[] d, int dOff, int cols, float[] out) {
        for (int b = 0; b < cols / 32; b++) {
            FloatVector s = FloatVector.fromArray(F, d, dOff + b * L);
            for (int j = 0; j < 16; j++) {
                ByteVector packed = ByteVector.fromArray(BQ, q, qo + (b * 16 + j) * L);
                low(packed).mul(s).intoArray(out, (b * 32 + j) * L);
                high(packed).mul(s).intoArray(out, (b * 32 + 16 + j) * L);
            }
        }
    }

    private static float sum(FloatVector v) {
        return v.reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector widen(byte[] w, int at) {
        return (FloatVector) ByteVector.fromArray(BQ, w, at).convertShape(VectorOperators.B2F, F, 0);
    }

    @Override
    float dotQ4_K(byte[] w, int wo, float[] x, int xo, int blocks) {
        FloatVector acc = FloatVector.zero(Q);
        FloatVector mins = FloatVector.zero(Q);
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 144;
            float d = f16(w[o], w[o + 1]);
            float dmin = f16(w[o + 2], w[o + 3]);
            int sc = o + 4;
            int q = o + 16;
            int xb = xo + blk * 256;
            for (int is = 0; is < 8; is += 2) {
                FloatVector s1 = FloatVector.zero(Q);
                FloatVector s2 = FloatVector.zero(Q);
                FloatVector x1 = FloatVector.zero(Q);
                FloatVector x2 = FloatVector.zero(Q);
                for (int c = 0; c < 32; c += 8) {
                    ByteVector bytes = ByteVector.fromArray(QB, w, q + c);
                    FloatVector xa = FloatVector.fromArray(Q, x, xb + c);
                    FloatVector xc = FloatVector.fromArray(Q, x, xb + 32 + c);
                    s1 = ((FloatVector) bytes.and((byte) 0x0F).convertShape(VectorOperators.B2F, Q, 0)).fma(xa, s1);
                    s2 = ((FloatVector) bytes.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                            .convertShape(VectorOperators.B2F, Q, 0)).fma(xc, s2);
                    x1 = x1.add(xa);
                    x2 = x2.add(xc);
                }
                acc = s1.fma(FloatVector.broadcast(Q, d * scaleK4(w, sc, is)), acc);
                acc = s2.fma(FloatVector.broadcast(Q, d * scaleK4(w, sc, is + 1)), acc);
                mins = x1.fma(FloatVector.broadcast(Q, dmin * minK4(w, sc, is)), mins);
                mins = x2.fma(FloatVector.broadcast(Q, dmin * minK4(w, sc, is + 1)), mins);
                q += 32;
                xb += 64;
            }
        }
        return acc.sub(mins).reduceLanes(VectorOperators.ADD);
    }

    @Override
    float dotQ6_K(byte[] w, int wo, float[] x, int xo, int blocks) {
        FloatVector acc = FloatVector.zero(Q);
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 210;
            float d = f16(w[o + 208], w[o + 209]);
            int ql = o;
            int qh = o + 128;
            int sc = o + 192;
            int xb = xo + blk * 256;
            for (int half = 0; half < 2; half++) {
                for (int is = 0; is < 2; is++) {
                    FloatVector a1 = FloatVector.zero(Q);
                    FloatVector a2 = FloatVector.zero(Q);
                    FloatVector a3 = FloatVector.zero(Q);
                    FloatVector a4 = FloatVector.zero(Q);
                    for (int l = 16 * is; l < 16 * is + 16; l += 8) {
                        ByteVector lo = ByteVector.fromArray(QB, w, ql + l);
                        ByteVector hi = ByteVector.fromArray(QB, w, ql + l + 32);
                        ByteVector h = ByteVector.fromArray(QB, w, qh + l);
                        a1 = six(lo.and((byte) 0x0F), h, 0).fma(FloatVector.fromArray(Q, x, xb + l), a1);
                        a2 = six(hi.and((byte) 0x0F), h, 2).fma(FloatVector.fromArray(Q, x, xb + l + 32), a2);
                        a3 = six(lo.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F), h, 4)
                                .fma(FloatVector.fromArray(Q, x, xb + l + 64), a3);
                        a4 = six(hi.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F), h, 6)
                                .fma(FloatVector.fromArray(Q, x, xb + l + 96), a4);
                    }
                    acc = a1.fma(FloatVector.broadcast(Q, d * w[sc + is]), acc);
                    acc = a2.fma(FloatVector.broadcast(Q, d * w[sc + is + 2]), acc);
                    acc = a3.fma(FloatVector.broadcast(Q, d * w[sc + is + 4]), acc);
                    acc = a4.fma(FloatVector.broadcast(Q, d * w[sc + is + 6]), acc);
                }
                ql += 64;
                qh += 32;
                sc += 8;
                xb += 128;
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** A Q6_K quant as float: four low bits, the two high bits at {@code shift} of h, less 32. */
    private static FloatVector six(ByteVector low, ByteVector h, int shift) {
        ByteVector high = h.lanewise(VectorOperators.LSHR, shift).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
        return (FloatVector) low.or(high).sub((byte) 32).convertShape(VectorOperators.B2F, Q, 0);
    }

    @Override
    void dot4(float[] a, int ao, float[] x, int xo, int xs, int n, float[] y, int yo, int ys) {
        int x1 = xo + xs;
        int x2 = x1 + xs;
        int x3 = x2 + xs;
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        FloatVector s2 = FloatVector.zero(F);
        FloatVector s3 = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector w = FloatVector.fromArray(F, a, ao + i);
            s0 = w.fma(FloatVector.fromArray(F, x, xo + i), s0);
            s1 = w.fma(FloatVector.fromArray(F, x, x1 + i), s1);
            s2 = w.fma(FloatVector.fromArray(F, x, x2 + i), s2);
            s3 = w.fma(FloatVector.fromArray(F, x, x3 + i), s3);
        }
        float r0 = sum(s0);
        float r1 = sum(s1);
        float r2 = sum(s2);
        float r3 = sum(s3);
        for (; i < n; i++) {
            float w = a[ao + i];
            r0 += w * x[xo + i];
            r1 += w * x[x1 + i];
            r2 += w * x[x2 + i];
            r3 += w * x[x3 + i];
        }
        y[yo] = r0;
        y[yo + ys] = r1;
        y[yo + 2 * ys] = r2;
        y[yo + 3 * ys] = r3;
    }

    @Override
    void dot2x4(float[] a, int a0, int a1, float[] x, int xo, int xs, int n, float[] y, int yo, int ys) {
        int x1 = xo + xs;
        int x2 = x1 + xs;
        int x3 = x2 + xs;
        // Eight accumulators, two row vectors and one x vector: eleven of the sixteen registers.
        FloatVector p0 = FloatVector.zero(F);
        FloatVector p1 = FloatVector.zero(F);
        FloatVector p2 = FloatVector.zero(F);
        FloatVector p3 = FloatVector.zero(F);
        FloatVector q0 = FloatVector.zero(F);
        FloatVector q1 = FloatVector.zero(F);
        FloatVector q2 = FloatVector.zero(F);
        FloatVector q3 = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector u = FloatVector.fromArray(F, a, a0 + i);
            FloatVector w = FloatVector.fromArray(F, a, a1 + i);
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            p0 = u.fma(v, p0);
            q0 = w.fma(v, q0);
            v = FloatVector.fromArray(F, x, x1 + i);
            p1 = u.fma(v, p1);
            q1 = w.fma(v, q1);
            v = FloatVector.fromArray(F, x, x2 + i);
            p2 = u.fma(v, p2);
            q2 = w.fma(v, q2);
            v = FloatVector.fromArray(F, x, x3 + i);
            p3 = u.fma(v, p3);
            q3 = w.fma(v, q3);
        }
        float[] r = {sum(p0), sum(p1), sum(p2), sum(p3), sum(q0), sum(q1), sum(q2), sum(q3)};
        for (; i < n; i++) {
            float u = a[a0 + i];
            float w = a[a1 + i];
            for (int k = 0; k < 4; k++) {
                float xv = x[xo + k * xs + i];
                r[k] += u * xv;
                r[4 + k] += w * xv;
            }
        }
        for (int k = 0; k < 4; k++) {
            y[yo + k * ys] = r[k];
            y[yo + k * ys + 1] = r[4 + k];
        }
    }

    /**
     * One pass over the keys: each block of L scores sums its hd products in a register, then
     * scales, biases and takes the max. The last block runs whole past the last key (padded is a
     * multiple of L), its bias lanes there {@link #MASKED}.
     */
    @Override
    float scores(float[] q, int qo, int hd, float[] k, int kBase, int dimStride, int keys, int padded, float scale,
            float[] bias, int biasOff, float[] out) {
        FloatVector top = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector sc = FloatVector.broadcast(F, scale);
        float[] tail = new float[L];
        for (int j = 0; j < padded; j += L) {
            FloatVector acc = FloatVector.zero(F);
            for (int i = 0; i < hd; i++) {
                acc = FloatVector.fromArray(F, k, kBase + i * dimStride + j).fma(at(q[qo + i]), acc);
            }
            FloatVector b;
            if (j + L <= keys) {
                b = FloatVector.fromArray(F, bias, biasOff + j);
            } else {
                java.util.Arrays.fill(tail, MASKED);
                if (keys > j) {
                    System.arraycopy(bias, biasOff + j, tail, 0, keys - j);
                }
                b = FloatVector.fromArray(F, tail, 0);
                acc = acc.blend(0f, b.lt(-1e8f));
            }
            FloatVector s = acc.fma(sc, b);
            s.intoArray(out, j);
            top = top.max(s);
        }
        return top.reduceLanes(VectorOperators.MAX);
    }

    /**
     * {@link Kernels#exp}'s steps across lanes. n rounds by adding 1.5·2^23 (the sum's low mantissa
     * bits are then n itself), so 2^n is those bits shifted into the exponent: no float-to-int
     * conversion, which this JVM does not compile to one instruction (a version with them was 2.3×
     * slower than the plain loop; this one is 9× faster on 260 keys). A key below −87 (a masked
     * one) weighs exactly 0, as in the plain loop.
     */
    @Override
    float expSum(float[] a, int n, float max) {
        return exp(a, 0, n, max);
    }

    /**
     * a[ao + i] = e^(a[ao + i] − max) for i in [0, n), and their sum. One loop with the steps
     * written in it: a helper taking and returning vectors, left out of line by C2, would box them.
     */
    private static float exp(float[] a, int ao, int n, float max) {
        FloatVector acc = FloatVector.zero(F);
        FloatVector magic = FloatVector.broadcast(F, 12582912f);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, ao + i).sub(max);
            FloatVector t = x.fma(FloatVector.broadcast(F, 1.44269504f), magic);
            FloatVector nf = t.sub(magic);
            FloatVector r = nf.fma(FloatVector.broadcast(F, -0.693145751953125f), x);
            r = nf.fma(FloatVector.broadcast(F, -1.428606765330187e-06f), r);
            FloatVector p = r.fma(FloatVector.broadcast(F, 0.0001984127f), FloatVector.broadcast(F, 0.0013888889f));
            p = p.fma(r, FloatVector.broadcast(F, 0.008333334f));
            p = p.fma(r, FloatVector.broadcast(F, 0.041666668f));
            p = p.fma(r, FloatVector.broadcast(F, 0.16666667f));
            p = p.fma(r, FloatVector.broadcast(F, 0.5f));
            p = p.fma(r, FloatVector.broadcast(F, 1f));
            p = p.fma(r, FloatVector.broadcast(F, 1f));
            IntVector twoToN = ((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).add(127 << 23);
            FloatVector e = p.mul(twoToN.reinterpretAsFloats()).blend(0f, x.lt(-87f));
            e.intoArray(a, ao + i);
            acc = acc.add(e);
        }
        float sum = sum(acc);
        for (; i < n; i++) {
            float e = Kernels.exp(a[ao + i] - max);
            a[ao + i] = e;
            sum += e;
        }
        return sum;
    }

    /** e^−|g| into act first (one pass of {@link #exp(float[], int, int, float)}), then σ and the product; the tail as the plain loop. */
    @Override
    void swiglu(float[] u, int go, int uo, float[] act, int ao, int n) {
        int full = n / L * L;
        for (int i = 0; i < full; i += L) {
            FloatVector.fromArray(F, u, go + i).abs().neg().intoArray(act, ao + i);
        }
        exp(act, ao, full, 0f);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int i = 0; i < full; i += L) {
            FloatVector g = FloatVector.fromArray(F, u, go + i);
            FloatVector e = FloatVector.fromArray(F, act, ao + i);
            FloatVector sigmoid = one.blend(e, g.lt(0f)).div(one.add(e));
            g.mul(sigmoid).mul(FloatVector.fromArray(F, u, uo + i)).intoArray(act, ao + i);
        }
        super.swiglu(u, go + full, uo + full, act, ao + full, n - full);
    }

    @Override
    void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
    }
}
