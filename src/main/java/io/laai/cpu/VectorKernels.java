package io.laai.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels} on the Vector API, at the CPU's width: 16 floats at a time where it has 512-bit
 * vectors (AVX-512), else 8 ({@code -Dlaai.vector.bits=256} asks for 8). int8 weights widen to float
 * in registers, so a quantized row is never written out as floats. Loaded by name only where the
 * module is present (a JVM without it never links this class). The species are static constants:
 * C2 compiles the Vector API to plain SIMD instructions only for species it can fold.
 */
final class VectorKernels extends Kernels {

    private static final VectorSpecies<Float> F = species();
    /** Lanes of F: a Q8_0 or Q4_0 block of 32 values is 32 / L vectors. */
    private static final int L = F.length();
    /** As many bytes as F has lanes: the int8 quants that widen into one float vector. */
    private static final VectorSpecies<Byte> BQ = L == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    /**
     * The quantized in-place dot products stay at 8 lanes: a 32-value block is then four int8 loads
     * that widen in one step each, which measured faster than two 16-lane ones (a single stream over
     * Q8_0 weights lost a sixth at 512 bits).
     */
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
    float dotQ8_0(byte[] w, int wo, float[] x, int xo, int blocks) {
        FloatVector acc0 = FloatVector.zero(Q);
        FloatVector acc1 = FloatVector.zero(Q);
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 34;
            int q = o + 2;
            int xb = xo + blk * 32;
            FloatVector sa = widen8(w, q).mul(FloatVector.fromArray(Q, x, xb));
            FloatVector sb = widen8(w, q + 8).mul(FloatVector.fromArray(Q, x, xb + 8));
            sa = widen8(w, q + 16).fma(FloatVector.fromArray(Q, x, xb + 16), sa);
            sb = widen8(w, q + 24).fma(FloatVector.fromArray(Q, x, xb + 24), sb);
            FloatVector d = FloatVector.broadcast(Q, f16(w[o], w[o + 1]));
            if ((blk & 1) == 0) {
                acc0 = sa.add(sb).fma(d, acc0);
            } else {
                acc1 = sa.add(sb).fma(d, acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector widen8(byte[] w, int at) {
        return (FloatVector) ByteVector.fromArray(QB, w, at).convertShape(VectorOperators.B2F, Q, 0);
    }

    private static float sum(FloatVector v) {
        return v.reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector widen(byte[] w, int at) {
        return (FloatVector) ByteVector.fromArray(BQ, w, at).convertShape(VectorOperators.B2F, F, 0);
    }

    /** Part p (of 16 / L) of a Q4_0 block's 16 nibble values, as floats. */
    private static FloatVector part(ByteVector nibbles, int p) {
        return (FloatVector) nibbles.convertShape(VectorOperators.B2F, F, p);
    }

    @Override
    float dotQ4_0(byte[] w, int wo, float[] x, int xo, int blocks) {
        FloatVector acc0 = FloatVector.zero(Q);
        FloatVector acc1 = FloatVector.zero(Q);
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 18;
            int xb = xo + blk * 32;
            ByteVector packed = ByteVector.fromArray(B128, w, o + 2);
            ByteVector lo = packed.and((byte) 0x0F).sub((byte) 8);
            ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8);
            // The low nibbles are values 0…15 of the block, the high ones 16…31.
            FloatVector sa = ((FloatVector) lo.convertShape(VectorOperators.B2F, Q, 0)).mul(FloatVector.fromArray(Q, x, xb));
            FloatVector sb = ((FloatVector) lo.convertShape(VectorOperators.B2F, Q, 1)).mul(FloatVector.fromArray(Q, x, xb + 8));
            sa = ((FloatVector) hi.convertShape(VectorOperators.B2F, Q, 0)).fma(FloatVector.fromArray(Q, x, xb + 16), sa);
            sb = ((FloatVector) hi.convertShape(VectorOperators.B2F, Q, 1)).fma(FloatVector.fromArray(Q, x, xb + 24), sb);
            FloatVector d = FloatVector.broadcast(Q, f16(w[o], w[o + 1]));
            if ((blk & 1) == 0) {
                acc0 = sa.add(sb).fma(d, acc0);
            } else {
                acc1 = sa.add(sb).fma(d, acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
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
    void decodeQ8_0(byte[] w, int wo, float[] out, int at, int blocks) {
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 34;
            FloatVector d = FloatVector.broadcast(F, f16(w[o], w[o + 1]));
            for (int k = 0; k < 32; k += L) {
                widen(w, o + 2 + k).mul(d).intoArray(out, at + blk * 32 + k);
            }
        }
    }

    @Override
    void decodeQ4_0(byte[] w, int wo, float[] out, int at, int blocks) {
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 18;
            FloatVector d = FloatVector.broadcast(F, f16(w[o], w[o + 1]));
            ByteVector packed = ByteVector.fromArray(B128, w, o + 2);
            ByteVector lo = packed.and((byte) 0x0F).sub((byte) 8);
            ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8);
            for (int p = 0; p < 16 / L; p++) {
                part(lo, p).mul(d).intoArray(out, at + blk * 32 + p * L);
                part(hi, p).mul(d).intoArray(out, at + blk * 32 + 16 + p * L);
            }
        }
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
