package io.laai.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small GGUF v3 writer: metadata of the common types and tensors in f32, f16, bf16 or q8_0
 * (quantized as llama.cpp's reference quantize_row_q8_0 does). For tests and for the benchmark's
 * synthetic models; a model's weights are built in memory before they are written.
 */
public final class GgufWriter {

    private final Map<String, Object> metadata = new LinkedHashMap<>();
    private final List<Object[]> tensors = new ArrayList<>();

    public GgufWriter meta(String key, Object value) {
        metadata.put(key, value);
        return this;
    }

    /** shape is row-major (Hugging Face order); GGUF stores it reversed. */
    public GgufWriter tensor(String name, HostTensor t, GgufFile.GgmlType type) {
        tensors.add(new Object[] {name, t, type});
        return this;
    }

    public void write(Path file) throws IOException {
        Out out = new Out();
        out.b.write(new byte[] {'G', 'G', 'U', 'F'});
        out.u32(3);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (Map.Entry<String, Object> e : metadata.entrySet()) {
            out.str(e.getKey());
            out.value(e.getValue(), true);
        }
        List<byte[]> blobs = new ArrayList<>();
        long offset = 0;
        for (Object[] t : tensors) {
            HostTensor h = (HostTensor) t[1];
            GgufFile.GgmlType type = (GgufFile.GgmlType) t[2];
            out.str((String) t[0]);
            long[] s = h.shape();
            out.u32(s.length);
            for (int i = s.length - 1; i >= 0; i--) {
                out.u64(s[i]);
            }
            out.u32(type.id);
            out.u64(offset);
            byte[] blob = encode(h.data(), type);
            blobs.add(blob);
            offset += (blob.length + 31) / 32 * 32;
        }
        while (out.b.size() % 32 != 0) {
            out.b.write(0);
        }
        for (byte[] blob : blobs) {
            out.b.write(blob);
            for (int i = blob.length; i % 32 != 0; i++) {
                out.b.write(0);
            }
        }
        Files.write(file, out.b.toByteArray());
    }

    static byte[] encode(float[] data, GgufFile.GgmlType type) {
        ByteBuffer b = ByteBuffer.allocate(data.length / type.blockSize * type.blockBytes).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> b.asFloatBuffer().put(data);
            case F16 -> {
                for (float v : data) {
                    b.putShort(toHalf(v));
                }
            }
            case BF16 -> {
                for (float v : data) {
                    b.putShort((short) (Float.floatToIntBits(v) >>> 16));
                }
            }
            case Q8_0 -> {
                for (int blk = 0; blk < data.length / 32; blk++) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(data[blk * 32 + j]));
                    }
                    float d = amax / 127f;
                    short dh = toHalf(d);
                    float dq = Half.f16(dh);
                    b.putShort(dh);
                    for (int j = 0; j < 32; j++) {
                        b.put((byte) (dq == 0 ? 0 : Math.round(data[blk * 32 + j] / dq)));
                    }
                }
            }
            default -> throw new IllegalArgumentException("GgufWriter does not write " + type);
        }
        return b.array();
    }

    /** float → IEEE half, round to nearest; enough for test data in the normal range. */
    static short toHalf(float v) {
        int bits = Float.floatToIntBits(v);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mant = bits & 0x7fffff;
        if (exp <= 0) {
            return (short) sign; // flush tiny values to zero
        }
        if (exp >= 31) {
            return (short) (sign | 0x7c00);
        }
        int h = sign | (exp << 10) | (mant >>> 13);
        if ((mant & 0x1000) != 0) {
            h++; // round half up
        }
        return (short) h;
    }

    private static final class Out {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        void u32(long v) {
            ByteBuffer x = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v);
            b.writeBytes(x.array());
        }

        void u64(long v) {
            ByteBuffer x = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
            b.writeBytes(x.array());
        }

        void str(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            b.writeBytes(bytes);
        }

        void value(Object v, boolean typed) {
            if (v instanceof String s) {
                if (typed) {
                    u32(8);
                }
                str(s);
            } else if (v instanceof Float f) {
                if (typed) {
                    u32(6);
                }
                u32(Float.floatToIntBits(f));
            } else if (v instanceof Integer i) {
                if (typed) {
                    u32(4);
                }
                u32(i);
            } else if (v instanceof Long l) {
                if (typed) {
                    u32(4);
                }
                u32(l);
            } else if (v instanceof Boolean bool) {
                if (typed) {
                    u32(7);
                }
                b.write(bool ? 1 : 0);
            } else if (v instanceof List<?> list) {
                u32(9);
                Object first = list.isEmpty() ? "" : list.get(0);
                u32(first instanceof String ? 8 : first instanceof Float ? 6 : 5);
                u64(list.size());
                for (Object o : list) {
                    if (o instanceof Number n && !(o instanceof Float)) {
                        u32(n.intValue());
                    } else {
                        value(o, false);
                    }
                }
            } else {
                throw new IllegalArgumentException("unsupported metadata value " + v);
            }
        }
    }
}
