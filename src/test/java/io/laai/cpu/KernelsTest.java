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

    /**
     * F32, Q8_0 and Q4_0 panels, 21 rows (the last panel padded) × 96 columns, against 1, 3, 5, 13,
     * 16, 25, 32 and 45 vectors (every block width of the panel kernels, interleaved): rows read back from the panels are the rows as
     * llama.cpp dequantizes them, exactly, and the products are those rows times the vectors.
     */
    private static void panels(Kernels k) {
        int rows = 21;
        int cols = 96;
        int p = k.panelRows();
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0}) {
            float[] rowMajor;
            float[] w;
            byte[] q = null;
            float[] d = null;
            if (type == GgmlType.F32) {
                rowMajor = floats(rows * cols);
                w = Panels.f32(rowMajor, rows, cols, p);
            } else {
                int size = type == GgmlType.Q8_0 ? 34 : 18;
                byte[] file = blocks(rows * cols / 32, size, 0);
                float[] decoded = new PackedTensor(new long[] {rows, cols}, type, file).host().data();
                rowMajor = decoded;
                d = new float[Panels.count(rows, p) * p * cols / 32];
                q = Panels.quantized(file, size, rows, cols, p, d);
                w = null;
            }
            float[] row = new float[cols + 3];
            for (int r = 0; r < rows; r++) {
                switch (type) {
                    case F32 -> Panels.rowF32(w, cols, p, r, row, 3);
                    case Q8_0 -> Panels.rowQ8_0(q, d, cols, p, r, row, 3);
                    default -> Panels.rowQ4_0(q, d, cols, p, r, row, 3);
                }
                assertArrayEquals(java.util.Arrays.copyOfRange(rowMajor, r * cols, (r + 1) * cols),
                        java.util.Arrays.copyOfRange(row, 3, 3 + cols), 0f, type + " row " + r + " from its panel");
            }
            for (int n : new int[] {1, 3, 5, 13, 16, 25, 32, 45}) {
                float[] x = floats(n * cols);
                float[] xt = new float[n * cols];
                k.interleave(x, n, cols, xt);
                int ys = rows + 2;
                float[] y = new float[n * ys];
                float[] scratch = new float[p * cols];
                for (int panel = 0; panel < Panels.count(rows, p); panel++) {
                    int valid = Math.min(p, rows - panel * p);
                    int yo = 1 + panel * p;
                    if (type == GgmlType.F32) {
                        k.panel(w, panel * p * cols, cols, xt, n, y, yo, ys, valid);
                        continue;
                    }
                    int qo = panel * p * (type == GgmlType.Q8_0 ? cols : cols / 2);
                    int dOff = panel * p * cols / 32;
                    if (n == 1 && type == GgmlType.Q8_0) {
                        k.panelQ8_0(q, qo, d, dOff, cols, x, 0, y, yo, valid);
                    } else if (n == 1) {
                        k.panelQ4_0(q, qo, d, dOff, cols, x, 0, y, yo, valid);
                    } else {
                        if (type == GgmlType.Q8_0) {
                            k.decodePanelQ8_0(q, qo, d, dOff, cols, scratch);
                        } else {
                            k.decodePanelQ4_0(q, qo, d, dOff, cols, scratch);
                        }
                        k.panel(scratch, 0, cols, xt, n, y, yo, ys, valid);
                    }
                }
                for (int v = 0; v < n; v++) {
                    assertEquals(0f, y[v * ys], type + ": the padding is not written");
                    for (int r = 0; r < rows; r++) {
                        float[] wr = java.util.Arrays.copyOfRange(rowMajor, r * cols, (r + 1) * cols);
                        assertEquals(k.dot(wr, 0, x, v * cols, cols), y[v * ys + 1 + r], 1e-5f * sumOfAbs(wr, x, v * cols),
                                k.name() + " " + type + " row " + r + ", vector " + v + " of " + n);
                    }
                    assertEquals(0f, y[v * ys + rows + 1], type + ": the padding is not written");
                }
            }
        }
    }

    /**
     * Four Q8_0 panels two apart (8 panels of 96 columns) against one vector at once: each panel's
     * products are what the one-panel kernel gives it, and no other row of y is written.
     */
    private static void fourStreams(Kernels k) {
        int p = k.panelRows();
        int cols = 96;
        int rows = 8 * p;
        byte[] file = blocks(rows * cols / 32, 34, 0);
        float[] d = new float[rows * cols / 32];
        byte[] q = Panels.quantized(file, 34, rows, cols, p, d);
        float[] rowMajor = new PackedTensor(new long[] {rows, cols}, GgmlType.Q8_0, file).host().data();
        float[] x = floats(cols + 3);
        float[] each = new float[rows + 1];
        for (int panel = 0; panel < 8; panel++) {
            k.panelQ8_0(q, panel * p * cols, d, panel * p * cols / 32, cols, x, 3, each, 1 + panel * p, p);
        }
        for (int first : new int[] {0, 1}) {
            float[] four = new float[rows + 1];
            k.panelsQ8_0(q, first * p * cols, d, first * p * cols / 32, 2, cols, x, 3, four, 1 + first * p);
            for (int panel = 0; panel < 8; panel++) {
                for (int r = 0; r < p; r++) {
                    int at = 1 + panel * p + r;
                    if ((panel - first) % 2 == 0 && panel >= first) {
                        float[] wr = java.util.Arrays.copyOfRange(rowMajor, (panel * p + r) * cols, (panel * p + r + 1) * cols);
                        assertEquals(each[at], four[at], 1e-5f * sumOfAbs(wr, x, 3), k.name() + " panel " + panel + " row " + r);
                    } else {
                        assertEquals(0f, four[at], k.name() + ": panel " + panel + " is not one of the four from " + first);
                    }
                }
            }
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
        for (Kernels k : new Kernels[] {plain, vector}) {
            panels(k);
            fourStreams(k);
        }
        // Attention scores over 37 key-major keys of 8 dimensions, read to 48 (the padded columns), some masked.
        float[] q = floats(8 + 2);
        float[] keys = floats(3 + 8 * 50);
        float[] mask = new float[40];
        for (int j = 0; j < mask.length; j++) {
            mask[j] = j % 7 == 3 ? Kernels.MASKED : 0f;
        }
        float[] sp = new float[48];
        float[] sv = new float[48];
        float topP = plain.scores(q, 2, 8, keys, 3, 50, 37, 48, 0.35f, mask, 1, sp);
        float topV = vector.scores(q, 2, 8, keys, 3, 50, 37, 48, 0.35f, mask, 1, sv);
        assertEquals(topP, topV, 1e-5f);
        assertArrayEquals(sp, sv, 1e-4f);
        for (int j = 37; j < 48; j++) {
            assertEquals(Kernels.MASKED, sv[j], "column " + j + " past the last key");
        }
        // SwiGLU over 77 values from −100 to 100 (both tails of the sigmoid), against Math.exp's.
        float[] gu = new float[2 * 77 + 3];
        for (int i = 0; i < gu.length; i++) {
            gu[i] = i < 80 ? -100f + 200f * i / 79 : (float) RANDOM.nextGaussian();
        }
        float[] ap = new float[80];
        float[] av = new float[80];
        plain.swiglu(gu, 0, 80, ap, 2, 77);
        vector.swiglu(gu, 0, 80, av, 2, 77);
        for (int i = 0; i < 77; i++) {
            float g = gu[i];
            float want = (float) (g / (1 + Math.exp(-g)) * gu[80 + i]);
            float tolerance = 1e-6f * Math.abs(want) + 1e-30f;
            assertEquals(want, ap[2 + i], tolerance, "plain swiglu at g = " + g);
            assertEquals(want, av[2 + i], tolerance, "vector swiglu at g = " + g);
        }
        // A softmax over 77 keys (every lane count plus a tail), some masked: e^x within a few ulp, masked keys exactly 0.
        float[] scores = new float[77];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = i % 9 == 4 ? -1e9f : -95f * RANDOM.nextFloat() + 2f;
        }
        float[] e = scores.clone();
        float sum = vector.expSum(e, e.length, 2f);
        double expected = 0;
        for (int i = 0; i < scores.length; i++) {
            float want = (float) Math.exp(scores[i] - 2f);
            if (scores[i] - 2f < -87f) {
                assertEquals(0f, e[i], "key " + i + " (" + scores[i] + ") weighs exactly 0");
            } else {
                assertEquals(want, e[i], 4 * Math.ulp(want), "e^" + (scores[i] - 2f));
            }
            expected += e[i];
        }
        assertEquals(expected, sum, 1e-5 * expected);
        kQuants(plain, vector);
        return vector.name();
    }
}
