package io.laai.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels} on the Vector API, 8 floats at a time: int8 weights widen to float in
 * registers, so a quantized row is never written out as floats. Loaded by name only where the
 * module is present (a JVM without it never links this class).
 */
final class VectorKernels extends Kernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;

    VectorKernels() {
        if (FloatVector.SPECIES_PREFERRED.vectorBitSize() < 256) {
            throw new IllegalStateException("the CPU's vectors are " + FloatVector.SPECIES_PREFERRED.vectorBitSize()
                    + "-bit; the kernels need 256");
        }
    }

    @Override
    String name() {
        return "vector (Vector API, 256-bit)";
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
        for (; i + 32 <= n; i += 32) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
            s1 = FloatVector.fromArray(F, a, ao + i + 8).fma(FloatVector.fromArray(F, b, bo + i + 8), s1);
            s2 = FloatVector.fromArray(F, a, ao + i + 16).fma(FloatVector.fromArray(F, b, bo + i + 16), s2);
            s3 = FloatVector.fromArray(F, a, ao + i + 24).fma(FloatVector.fromArray(F, b, bo + i + 24), s3);
        }
        for (; i + 8 <= n; i += 8) {
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
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 34;
            int q = o + 2;
            int xb = xo + blk * 32;
            FloatVector sa = widen(w, q).mul(FloatVector.fromArray(F, x, xb));
            FloatVector sb = widen(w, q + 8).mul(FloatVector.fromArray(F, x, xb + 8));
            sa = widen(w, q + 16).fma(FloatVector.fromArray(F, x, xb + 16), sa);
            sb = widen(w, q + 24).fma(FloatVector.fromArray(F, x, xb + 24), sb);
            FloatVector d = FloatVector.broadcast(F, f16(w[o], w[o + 1]));
            if ((blk & 1) == 0) {
                acc0 = sa.add(sb).fma(d, acc0);
            } else {
                acc1 = sa.add(sb).fma(d, acc1);
            }
        }
        return sum(acc0.add(acc1));
    }

    private static float sum(FloatVector v) {
        return v.reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector widen(byte[] w, int at) {
        return (FloatVector) ByteVector.fromArray(B64, w, at).convertShape(VectorOperators.B2F, F, 0);
    }

    @Override
    float dotQ4_0(byte[] w, int wo, float[] x, int xo, int blocks) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 18;
            int xb = xo + blk * 32;
            ByteVector packed = ByteVector.fromArray(B128, w, o + 2);
            ByteVector lo = packed.and((byte) 0x0F).sub((byte) 8);
            ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8);
            FloatVector sa = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xb));
            FloatVector sb = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).mul(FloatVector.fromArray(F, x, xb + 8));
            sa = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 16), sa);
            sb = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xb + 24), sb);
            FloatVector d = FloatVector.broadcast(F, f16(w[o], w[o + 1]));
            if ((blk & 1) == 0) {
                acc0 = sa.add(sb).fma(d, acc0);
            } else {
                acc1 = sa.add(sb).fma(d, acc1);
            }
        }
        return sum(acc0.add(acc1));
    }

    @Override
    void decodeQ8_0(byte[] w, int wo, float[] out, int blocks) {
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 34;
            FloatVector d = FloatVector.broadcast(F, f16(w[o], w[o + 1]));
            for (int k = 0; k < 32; k += 8) {
                widen(w, o + 2 + k).mul(d).intoArray(out, blk * 32 + k);
            }
        }
    }

    @Override
    void decodeQ4_0(byte[] w, int wo, float[] out, int blocks) {
        for (int blk = 0; blk < blocks; blk++) {
            int o = wo + blk * 18;
            FloatVector d = FloatVector.broadcast(F, f16(w[o], w[o + 1]));
            ByteVector packed = ByteVector.fromArray(B128, w, o + 2);
            ByteVector lo = packed.and((byte) 0x0F).sub((byte) 8);
            ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, blk * 32);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).mul(d).intoArray(out, blk * 32 + 8);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, blk * 32 + 16);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).mul(d).intoArray(out, blk * 32 + 24);
        }
    }

    @Override
    void dot4(float[] a, float[] x, int x0, int x1, int x2, int x3, int n, float[] y, int y0, int y1, int y2, int y3) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        FloatVector s2 = FloatVector.zero(F);
        FloatVector s3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            FloatVector w = FloatVector.fromArray(F, a, i);
            s0 = w.fma(FloatVector.fromArray(F, x, x0 + i), s0);
            s1 = w.fma(FloatVector.fromArray(F, x, x1 + i), s1);
            s2 = w.fma(FloatVector.fromArray(F, x, x2 + i), s2);
            s3 = w.fma(FloatVector.fromArray(F, x, x3 + i), s3);
        }
        float r0 = sum(s0);
        float r1 = sum(s1);
        float r2 = sum(s2);
        float r3 = sum(s3);
        for (; i < n; i++) {
            r0 += a[i] * x[x0 + i];
            r1 += a[i] * x[x1 + i];
            r2 += a[i] * x[x2 + i];
            r3 += a[i] * x[x3 + i];
        }
        y[y0] = r0;
        y[y1] = r1;
        y[y2] = r2;
        y[y3] = r3;
    }

    @Override
    void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
    }
}
