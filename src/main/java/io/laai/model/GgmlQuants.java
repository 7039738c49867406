package io.laai.model;

import java.nio.ByteBuffer;

/**
 * Dequantization of ggml's block formats to float32, operation for operation as llama.cpp's
 * {@code dequantize_row_*} (ggml-quants.c) computes them, so the result is bit for bit the same
 * (held to the SHA-256 of llama.cpp's own dequantization of real quantized files). Each method
 * reads {@code n / blockSize} blocks from {@code b}'s position (little-endian) into {@code out}.
 */
final class GgmlQuants {

    static final int QK = 32;
    static final int QK_K = 256;

    private GgmlQuants() {
    }

    /** Decodes n values of {@code type} from b's position into out[0, n). */
    static void dequantize(GgufFile.GgmlType type, ByteBuffer b, float[] out, int n) {
        switch (type) {
            case F32 -> b.asFloatBuffer().get(out, 0, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Half.f16(b.getShort());
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Half.bf16(b.getShort());
                }
            }
            case Q4_0 -> q4_0(b, out, n);
            case Q4_1 -> q4_1(b, out, n);
            case Q5_0 -> q5_0(b, out, n);
            case Q5_1 -> q5_1(b, out, n);
            case Q8_0 -> q8_0(b, out, n);
            case Q2_K -> q2_K(b, out, n);
            case Q3_K -> q3_K(b, out, n);
            case Q4_K -> q4_K(b, out, n);
            case Q5_K -> q5_K(b, out, n);
            case Q6_K -> q6_K(b, out, n);
        }
    }

    private static float half(ByteBuffer b) {
        return Half.f16(b.getShort());
    }

    private static int u8(ByteBuffer b, int at) {
        return b.get(at) & 0xff;
    }

    static void q8_0(ByteBuffer b, float[] out, int n) {
        for (int blk = 0; blk < n / QK; blk++) {
            float d = half(b);
            for (int j = 0; j < QK; j++) {
                out[blk * QK + j] = b.get() * d;
            }
        }
    }

    static void q4_0(ByteBuffer b, float[] out, int n) {
        for (int blk = 0; blk < n / QK; blk++) {
            float d = half(b);
            int qs = b.position();
            for (int j = 0; j < QK / 2; j++) {
                int q = u8(b, qs + j);
                out[blk * QK + j] = ((q & 0x0F) - 8) * d;
                out[blk * QK + j + QK / 2] = ((q >> 4) - 8) * d;
            }
            b.position(qs + QK / 2);
        }
    }

    static void q4_1(ByteBuffer b, float[] out, int n) {
        for (int blk = 0; blk < n / QK; blk++) {
            float d = half(b);
            float m = half(b);
            int qs = b.position();
            for (int j = 0; j < QK / 2; j++) {
                int q = u8(b, qs + j);
                out[blk * QK + j] = (q & 0x0F) * d + m;
                out[blk * QK + j + QK / 2] = (q >> 4) * d + m;
            }
            b.position(qs + QK / 2);
        }
    }

    static void q5_0(ByteBuffer b, float[] out, int n) {
        for (int blk = 0; blk < n / QK; blk++) {
            float d = half(b);
            int qh = b.getInt();
            int qs = b.position();
            for (int j = 0; j < QK / 2; j++) {
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                int q = u8(b, qs + j);
                out[blk * QK + j] = (((q & 0x0F) | xh0) - 16) * d;
                out[blk * QK + j + QK / 2] = (((q >> 4) | xh1) - 16) * d;
            }
            b.position(qs + QK / 2);
        }
    }

    static void q5_1(ByteBuffer b, float[] out, int n) {
        for (int blk = 0; blk < n / QK; blk++) {
            float d = half(b);
            float m = half(b);
            int qh = b.getInt();
            int qs = b.position();
            for (int j = 0; j < QK / 2; j++) {
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                int q = u8(b, qs + j);
                out[blk * QK + j] = ((q & 0x0F) | xh0) * d + m;
                out[blk * QK + j + QK / 2] = ((q >> 4) | xh1) * d + m;
            }
            b.position(qs + QK / 2);
        }
    }

    /** Q2_K: 16 groups of 16, each with a 4-bit scale and a 4-bit min; 2-bit quants. */
    static void q2_K(ByteBuffer b, float[] out, int n) {
        int y = 0;
        for (int blk = 0; blk < n / QK_K; blk++) {
            int start = b.position();
            int scales = start;
            int qs = start + 16;
            b.position(start + 16 + 64);
            float d = half(b);
            float min = half(b);
            int is = 0;
            for (int half = 0; half < QK_K; half += 128) {
                int shift = 0;
                for (int j = 0; j < 4; j++) {
                    int sc = u8(b, scales + is++);
                    float dl = d * (sc & 0xF);
                    float ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) {
                        out[y++] = dl * ((u8(b, qs + l) >> shift) & 3) - ml;
                    }
                    sc = u8(b, scales + is++);
                    dl = d * (sc & 0xF);
                    ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) {
                        out[y++] = dl * ((u8(b, qs + l + 16) >> shift) & 3) - ml;
                    }
                    shift += 2;
                }
                qs += 32;
            }
        }
    }

    /** Q3_K: 16 groups of 16 with 6-bit signed scales packed in 12 bytes; 2 low bits plus a high-bit mask. */
    static void q3_K(ByteBuffer b, float[] out, int n) {
        final int kmask1 = 0x03030303;
        final int kmask2 = 0x0f0f0f0f;
        int y = 0;
        int[] aux = new int[4];
        for (int blk = 0; blk < n / QK_K; blk++) {
            int start = b.position();
            int hm = start;
            int qs = start + 32;
            int sc = start + 32 + 64;
            aux[0] = b.getInt(sc);
            aux[1] = b.getInt(sc + 4);
            aux[2] = b.getInt(sc + 8);
            b.position(sc + 12);
            float dAll = half(b);
            int tmp = aux[2];
            aux[2] = ((aux[0] >>> 4) & kmask2) | (((tmp >>> 4) & kmask1) << 4);
            aux[3] = ((aux[1] >>> 4) & kmask2) | (((tmp >>> 6) & kmask1) << 4);
            aux[0] = (aux[0] & kmask2) | ((tmp & kmask1) << 4);
            aux[1] = (aux[1] & kmask2) | (((tmp >>> 2) & kmask1) << 4);
            int is = 0;
            int m = 1;
            for (int half = 0; half < QK_K; half += 128) {
                int shift = 0;
                for (int j = 0; j < 4; j++) {
                    float dl = dAll * (scale(aux, is++) - 32);
                    for (int l = 0; l < 16; l++) {
                        int q = ((u8(b, qs + l) >> shift) & 3) - ((u8(b, hm + l) & m) != 0 ? 0 : 4);
                        out[y++] = dl * q;
                    }
                    dl = dAll * (scale(aux, is++) - 32);
                    for (int l = 0; l < 16; l++) {
                        int q = ((u8(b, qs + l + 16) >> shift) & 3) - ((u8(b, hm + l + 16) & m) != 0 ? 0 : 4);
                        out[y++] = dl * q;
                    }
                    shift += 2;
                    m <<= 1;
                }
                qs += 32;
            }
        }
    }

    /** Byte {@code i} of the unpacked scales, as a signed 8-bit value (little-endian words). */
    private static int scale(int[] aux, int i) {
        return (byte) (aux[i >> 2] >>> (8 * (i & 3)));
    }

    /** The 6-bit scale and min of group j of a Q4_K/Q5_K block (llama.cpp's get_scale_min_k4). */
    private static int scaleMin(ByteBuffer b, int scales, int j, boolean min) {
        if (j < 4) {
            return u8(b, scales + j + (min ? 4 : 0)) & 63;
        }
        return min ? (u8(b, scales + j + 4) >> 4) | ((u8(b, scales + j) >> 6) << 4)
                : (u8(b, scales + j + 4) & 0xF) | ((u8(b, scales + j - 4) >> 6) << 4);
    }

    /** Q4_K: 8 groups of 32 with 6-bit scales and mins; 4-bit quants. */
    static void q4_K(ByteBuffer b, float[] out, int n) {
        int y = 0;
        for (int blk = 0; blk < n / QK_K; blk++) {
            float d = half(b);
            float min = half(b);
            int scales = b.position();
            int q = scales + 12;
            int is = 0;
            for (int j = 0; j < QK_K; j += 64) {
                float d1 = d * scaleMin(b, scales, is, false);
                float m1 = min * scaleMin(b, scales, is, true);
                float d2 = d * scaleMin(b, scales, is + 1, false);
                float m2 = min * scaleMin(b, scales, is + 1, true);
                for (int l = 0; l < 32; l++) {
                    out[y++] = d1 * (u8(b, q + l) & 0xF) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    out[y++] = d2 * (u8(b, q + l) >> 4) - m2;
                }
                q += 32;
                is += 2;
            }
            b.position(scales + 12 + 128);
        }
    }

    /** Q5_K: as Q4_K with a fifth bit per weight in qh. */
    static void q5_K(ByteBuffer b, float[] out, int n) {
        int y = 0;
        for (int blk = 0; blk < n / QK_K; blk++) {
            float d = half(b);
            float min = half(b);
            int scales = b.position();
            int qh = scales + 12;
            int ql = qh + 32;
            int is = 0;
            int u1 = 1;
            int u2 = 2;
            for (int j = 0; j < QK_K; j += 64) {
                float d1 = d * scaleMin(b, scales, is, false);
                float m1 = min * scaleMin(b, scales, is, true);
                float d2 = d * scaleMin(b, scales, is + 1, false);
                float m2 = min * scaleMin(b, scales, is + 1, true);
                for (int l = 0; l < 32; l++) {
                    out[y++] = d1 * ((u8(b, ql + l) & 0xF) + ((u8(b, qh + l) & u1) != 0 ? 16 : 0)) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    out[y++] = d2 * ((u8(b, ql + l) >> 4) + ((u8(b, qh + l) & u2) != 0 ? 16 : 0)) - m2;
                }
                ql += 32;
                is += 2;
                u1 <<= 2;
                u2 <<= 2;
            }
            b.position(scales + 12 + 32 + 128);
        }
    }

    /** Q6_K: 16 groups of 16 with 8-bit signed scales; 4 low bits in ql, 2 high bits in qh. */
    static void q6_K(ByteBuffer b, float[] out, int n) {
        int y = 0;
        for (int blk = 0; blk < n / QK_K; blk++) {
            int start = b.position();
            int ql = start;
            int qh = start + 128;
            int sc = start + 128 + 64;
            b.position(sc + 16);
            float d = half(b);
            for (int half = 0; half < QK_K; half += 128) {
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int h = u8(b, qh + l);
                    int q1 = ((u8(b, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                    int q2 = ((u8(b, ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = ((u8(b, ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = ((u8(b, ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    out[y + l] = d * b.get(sc + is) * q1;
                    out[y + l + 32] = d * b.get(sc + is + 2) * q2;
                    out[y + l + 64] = d * b.get(sc + is + 4) * q3;
                    out[y + l + 96] = d * b.get(sc + is + 6) * q4;
                }
                y += 128;
                ql += 64;
                qh += 32;
                sc += 8;
            }
        }
    }
}
