package io.laai.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import io.laai.model.GgufFile.GgmlType;
import io.laai.model.PackedTensor;

/**
 * The two kernel sets agree: the plain loops (any JVM) and the Vector API ones (where the module
 * is present) give the same products, decodes and sums on odd lengths and offsets, within float
 * rounding of a different summation order.
 */
class KernelsTest {

    private static final Random RANDOM = new Random(11);

    private static float[] floats(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) RANDOM.nextGaussian();
        }
        return a;
    }

    /** The softmax's e^x, over the range it is used on (x ≤ 0), within a few ulp of Math.exp. */
    @Test
    void expIsMathExpWithinAFewUlp() {
        for (int i = 0; i <= 200_000; i++) {
            float x = -90f * i / 200_000;
            float expected = (float) Math.exp(x);
            float got = Kernels.exp(x);
            if (x < -87f) {
                assertEquals(0f, got, 1e-37f, "x = " + x);
            } else {
                assertEquals(expected, got, 4 * Math.ulp(expected), "x = " + x);
            }
        }
        assertEquals(1f, Kernels.exp(0f));
        float[] scores = {3f, -1e9f, 1f};
        float sum = Kernels.get().expSum(scores, 3, 3f);
        assertEquals(0f, scores[1], "a masked key weighs exactly 0");
        assertEquals(1f + (float) Math.exp(-2), sum, 1e-6f);
    }

    /**
     * Q4_K and Q6_K in place: both kernel sets equal the row as llama.cpp dequantizes it (the
     * model's own decoder, held to llama.cpp's hashes) times x.
     */
    private static void kQuants(Kernels plain, Kernels vector) {
        int blocks = 3;
        float[] x = floats(blocks * 256 + 5);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q6_K}) {
            int size = type == GgmlType.Q4_K ? 144 : 210;
            // d (and dmin) of Q4_K lead the block, Q6_K's d ends it
            byte[] w = type == GgmlType.Q4_K ? blocks(blocks + 1, size, 0, 2) : blocks(blocks + 1, size, 208);
            float[] row = new float[blocks * 256];
            new PackedTensor(new long[] {1, blocks * 256L}, type, java.util.Arrays.copyOfRange(w, size,
                    size + blocks * size)).row(0, row);
            float expected = plain.dot(row, 0, x, 5, row.length);
            float p = type == GgmlType.Q4_K ? plain.dotQ4_K(w, size, x, 5, blocks) : plain.dotQ6_K(w, size, x, 5, blocks);
            float v = type == GgmlType.Q4_K ? vector.dotQ4_K(w, size, x, 5, blocks) : vector.dotQ6_K(w, size, x, 5, blocks);
            float tolerance = 1e-5f * sumOfAbs(row, x, 5);
            assertEquals(expected, p, tolerance, type + " plain");
            assertEquals(expected, v, tolerance, type + " vector");
        }
    }

    private static float sumOfAbs(float[] row, float[] x, int xo) {
        float s = 0;
        for (int i = 0; i < row.length; i++) {
            s += Math.abs(row[i] * x[xo + i]);
        }
        return s;
    }

    /**
     * Quantized blocks of random quants with finite f16 scales (2^-7 to 2^-3, exponents 8–11) at
     * the given offsets of each block.
     */
    private static byte[] blocks(int count, int size, int... scales) {
        byte[] b = new byte[count * size];
        RANDOM.nextBytes(b);
        for (int i = 0; i < count; i++) {
            for (int at : scales) {
                int h = ((8 + RANDOM.nextInt(4)) << 10) | RANDOM.nextInt(1024);
                b[i * size + at] = (byte) h;
                b[i * size + at + 1] = (byte) (h >> 8);
            }
        }
        return b;
    }

    @Test
    void vectorKernelsEqualThePlainLoops() throws Exception {
        Assumptions.assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "the JVM runs without jdk.incubator.vector");
        compare();
    }

    /** Where the CPU has 512-bit vectors, the 256-bit kernels (another CPU's) are held equal too, in a JVM of their own. */
    @Test
    void theNarrowerKernelsAlsoEqualThePlainLoops() throws Exception {
        Assumptions.assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "the JVM runs without jdk.incubator.vector");
        Assumptions.assumeTrue(Kernels.get().name().contains("512-bit"), "this JVM's kernels are already 256-bit");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Dlaai.vector.bits=256", "-cp", System.getProperty("java.class.path"),
                KernelsTest.class.getName()).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), out);
        assertEquals(0, child.exitValue(), out);
        assertTrue(out.contains("vector (Vector API, 256-bit) equals the plain loops"), out);
    }

    /** The child JVM of the test above. */
    public static void main(String[] args) throws Exception {
        System.out.println(compare() + " equals the plain loops");
    }

    private static String compare() throws Exception {
        Kernels plain = new ScalarKernels("the test's reference");
        Kernels vector = (Kernels) Class.forName("io.laai.cpu.VectorKernels").getDeclaredConstructor().newInstance();
        for (int n : new int[] {7, 64, 77, 576}) {
            float[] a = floats(3 * n + 5);
            float[] x = floats(5 * n + 3);
            assertEquals(plain.dot(a, 5, x, 3, n), vector.dot(a, 5, x, 3, n), 1e-4f * n);
            float[] yp = new float[40];
            float[] yv = new float[40];
            plain.dot4(a, 2, x, 3, n, n, yp, 1, 9);
            vector.dot4(a, 2, x, 3, n, n, yv, 1, 9);
            plain.dot2x4(a, 1, n + 4, x, 3, n, n, yp, 3, 9);
            vector.dot2x4(a, 1, n + 4, x, 3, n, n, yv, 3, 9);
            assertArrayEquals(yp, yv, 1e-4f * n);
            for (int k = 0; k < 4; k++) {
                assertEquals(plain.dot(a, n + 4, x, 3 + k * n, n), yv[3 + k * 9 + 1], 1e-4f * n, "row a1, vector " + k);
            }
            float[] zp = floats(2 * n);
            float[] zv = zp.clone();
            plain.axpy(0.3f, x, 1, zp, n - 1, n);
            vector.axpy(0.3f, x, 1, zv, n - 1, n);
            assertArrayEquals(zp, zv, 1e-5f);
        }
        int blocks = 18;
        float[] x = floats(blocks * 32 + 5);
        byte[] q8 = blocks(blocks + 1, 34, 0);
        byte[] q4 = blocks(blocks + 1, 18, 0);
        assertEquals(plain.dotQ8_0(q8, 34, x, 5, blocks), vector.dotQ8_0(q8, 34, x, 5, blocks), 1e-3f);
        assertEquals(plain.dotQ4_0(q4, 18, x, 5, blocks), vector.dotQ4_0(q4, 18, x, 5, blocks), 1e-3f);
        float[] dp = new float[blocks * 32 + 7];
        float[] dv = new float[blocks * 32 + 7];
        plain.decodeQ8_0(q8, 34, dp, 7, blocks);
        vector.decodeQ8_0(q8, 34, dv, 7, blocks);
        assertArrayEquals(dp, dv, 0f, "Q8_0 decodes exactly");
        plain.decodeQ4_0(q4, 18, dp, 7, blocks);
        vector.decodeQ4_0(q4, 18, dv, 7, blocks);
        assertArrayEquals(dp, dv, 0f, "Q4_0 decodes exactly");
        // The decoded row times x is the in-place product.
        assertEquals(plain.dot(dp, 7, x, 5, blocks * 32), vector.dotQ4_0(q4, 18, x, 5, blocks), 1e-3f);
        kQuants(plain, vector);
        return vector.name();
    }
}
