package io.laai.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (v2/v3): metadata and tensor directory, read with every length checked against the
 * file so that a truncated or hostile file fails with a message, never an OutOfMemoryError.
 * Tensor data is read on demand from a memory map.
 */
public final class GgufFile {

    private static final int MAGIC = 0x46554747; // "GGUF" little-endian
    private static final long MAX_STRING = 64L << 20;
    private static final int MAX_DIMS = 4;

    public enum GgmlType {
        F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24), Q8_0(8, 32, 34),
        Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144), Q5_K(13, 256, 176), Q6_K(14, 256, 210),
        BF16(30, 1, 2);

        /** ggml's names of the types LAAI does not load, for the error that refuses them. */
        private static final java.util.Map<Integer, String> OTHERS = java.util.Map.ofEntries(
                java.util.Map.entry(9, "Q8_1"), java.util.Map.entry(15, "Q8_K"), java.util.Map.entry(16, "IQ2_XXS"),
                java.util.Map.entry(17, "IQ2_XS"), java.util.Map.entry(18, "IQ3_XXS"), java.util.Map.entry(19, "IQ1_S"),
                java.util.Map.entry(20, "IQ4_NL"), java.util.Map.entry(21, "IQ3_S"), java.util.Map.entry(22, "IQ2_S"),
                java.util.Map.entry(23, "IQ4_XS"), java.util.Map.entry(24, "I8"), java.util.Map.entry(25, "I16"),
                java.util.Map.entry(26, "I32"), java.util.Map.entry(27, "I64"), java.util.Map.entry(28, "F64"),
                java.util.Map.entry(29, "IQ1_M"), java.util.Map.entry(34, "TQ1_0"), java.util.Map.entry(35, "TQ2_0"),
                java.util.Map.entry(39, "MXFP4"));

        final int id;
        final int blockSize;
        final int blockBytes;

        /** Values per block (1 for F32, F16 and BF16). */
        public int blockSize() {
            return blockSize;
        }

        public int blockBytes() {
            return blockBytes;
        }

        GgmlType(int id, int blockSize, int blockBytes) {
            this.id = id;
            this.blockSize = blockSize;
            this.blockBytes = blockBytes;
        }

        static GgmlType of(int id, Path file, String tensor) {
            for (GgmlType t : values()) {
                if (t.id == id) {
                    return t;
                }
            }
            throw new ModelFormatException(file, "tensor " + tensor + " has ggml type " + OTHERS.getOrDefault(id, "unknown")
                    + " (" + id + "), which LAAI does not load (supported: "
                    + java.util.Arrays.stream(values()).map(Enum::name).collect(java.util.stream.Collectors.joining(", "))
                    + "); requantize the file to one of them, e.g. llama-quantize FILE OUT.gguf Q4_K_M");
        }
    }

    public record TensorInfo(String name, long[] ggmlDims, GgmlType type, long offset, long bytes) {
        /** Row-major shape: ggml lists the fastest-varying dimension first. */
        public long[] shape() {
            long[] s = new long[ggmlDims.length];
            for (int i = 0; i < s.length; i++) {
                s[i] = ggmlDims[ggmlDims.length - 1 - i];
            }
            return s;
        }
    }

    private final Path file;
    private final Map<String, Object> metadata;
    private final Map<String, TensorInfo> tensors;
    private final long dataStart;
    private final long fileSize;

    private GgufFile(Path file, Map<String, Object> metadata, Map<String, TensorInfo> tensors, long dataStart,
            long fileSize) {
        this.file = file;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataStart = dataStart;
        this.fileSize = fileSize;
    }

    public static GgufFile open(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            // The header and directory sit at the front; map at most 256 MiB of it to parse them.
            long headLen = Math.min(size, 256L << 20);
            ByteBuffer head = ch.map(FileChannel.MapMode.READ_ONLY, 0, headLen).order(ByteOrder.LITTLE_ENDIAN);
            return parse(file, head, size);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage());
        }
    }

    private static GgufFile parse(Path file, ByteBuffer b, long fileSize) {
        Reader r = new Reader(file, b);
        if (r.remaining() < 24 || b.getInt(0) != MAGIC) {
            throw new ModelFormatException(file, "not a GGUF file (bad magic or shorter than its header)");
        }
        r.pos = 4;
        int version = r.u32();
        if (version != 2 && version != 3) {
            throw new ModelFormatException(file, "GGUF version " + version + " is not supported (2 or 3)");
        }
        long tensorCount = r.u64();
        long kvCount = r.u64();
        // Each entry needs at least a few bytes, so counts beyond the file size are lies.
        if (tensorCount < 0 || tensorCount > fileSize / 8 || kvCount < 0 || kvCount > fileSize / 8) {
            throw new ModelFormatException(file, "header claims " + tensorCount + " tensors and " + kvCount
                    + " metadata entries, more than a " + fileSize + "-byte file can hold");
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = r.string();
            int type = r.u32();
            meta.put(key, r.value(type, key));
        }
        long alignment = 32;
        Object align = meta.get("general.alignment");
        if (align instanceof Number n) {
            alignment = n.longValue();
            if (alignment <= 0 || alignment > 1 << 20 || Long.bitCount(alignment) != 1) {
                throw new ModelFormatException(file, "general.alignment=" + alignment + " is not a power of two");
            }
        }
        List<Object[]> raw = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = r.string();
            int nDims = r.u32();
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new ModelFormatException(file, "tensor " + name + " has " + nDims + " dimensions");
            }
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = r.u64();
                if (dims[d] <= 0 || dims[d] > fileSize * 64) {
                    throw new ModelFormatException(file, "tensor " + name + " has dimension " + dims[d]);
                }
            }
            int type = r.u32();
            long offset = r.u64();
            raw.add(new Object[] {name, dims, type, offset});
        }
        long dataStart = (r.pos + alignment - 1) / alignment * alignment;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Object[] t : raw) {
            String name = (String) t[0];
            long[] dims = (long[]) t[1];
            GgmlType type = GgmlType.of((Integer) t[2], file, name);
            long offset = (Long) t[3];
            long elements;
            try {
                elements = HostTensor.numel(dims);
            } catch (ArithmeticException e) {
                throw new ModelFormatException(file, "tensor " + name + " claims an absurd size " + Arrays.toString(dims));
            }
            if (elements % type.blockSize != 0 || dims[0] % type.blockSize != 0) {
                throw new ModelFormatException(file, "tensor " + name + " (" + type + ") row length " + dims[0]
                        + " is not a multiple of the block size " + type.blockSize);
            }
            if (elements > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(file, "tensor " + name + " has " + elements
                        + " elements, more than one Java array holds");
            }
            long bytes = elements / type.blockSize * type.blockBytes;
            if (offset < 0 || offset % alignment != 0 || dataStart + offset + bytes > fileSize) {
                throw new ModelFormatException(file, "tensor " + name + " at offset " + offset + " with " + bytes
                        + " bytes lies outside the file (" + fileSize + " bytes): truncated or corrupt");
            }
            if (tensors.put(name, new TensorInfo(name, dims, type, offset, bytes)) != null) {
                throw new ModelFormatException(file, "tensor " + name + " appears twice");
            }
        }
        return new GgufFile(file, meta, tensors, dataStart, fileSize);
    }

    public Path file() {
        return file;
    }

    public Map<String, Object> metadata() {
        return metadata;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public String string(String key) {
        Object v = metadata.get(key);
        return v instanceof String s ? s : null;
    }

    /** A numeric metadata value, or the default where the key is absent. */
    public Number number(String key, Number fallback) {
        Object v = metadata.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n;
        }
        throw new ModelFormatException(file, "metadata " + key + " should be a number, is " + v);
    }

    public int requireInt(String key) {
        Number n = number(key, null);
        if (n == null) {
            throw new ModelFormatException(file, "metadata " + key + " is missing");
        }
        return n.intValue();
    }

    @SuppressWarnings("unchecked")
    public List<Object> array(String key) {
        Object v = metadata.get(key);
        return v instanceof List<?> l ? (List<Object>) l : null;
    }

    /** Reads and dequantizes one tensor to float32 with its row-major shape. */
    public HostTensor read(String name) {
        return load(name).host();
    }

    private static final int READ_CHUNK = 1 << 20;

    /**
     * Reads one tensor as the file stores it: float32 as values, every other type as its blocks.
     * Read, not mapped: a mapped file's pages would count against the process's memory until the
     * mapping is collected.
     */
    public Weight load(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(file, "tensor " + name + " is missing");
        }
        byte[] bytes = new byte[Math.toIntExact(t.bytes)];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            // A megabyte at a time: a channel reads into a heap array through a direct buffer as
            // large as the read, which the JDK then keeps for the thread (30 MiB for a 135M model's
            // embedding, out of the heap's sight).
            for (int at = 0; at < bytes.length;) {
                ByteBuffer into = ByteBuffer.wrap(bytes, at, Math.min(READ_CHUNK, bytes.length - at));
                while (into.hasRemaining()) {
                    if (ch.read(into, dataStart + t.offset + into.position()) < 0) {
                        throw new ModelFormatException(file, "tensor " + name + " ends past the end of the file");
                    }
                }
                at = into.position();
            }
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read tensor " + name + ": " + e.getMessage());
        }
        if (t.type != GgmlType.F32) {
            return new PackedTensor(t.shape(), t.type, bytes);
        }
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return new HostTensor(t.shape(), out);
    }

    /** Cursor over the header that refuses to read past the end. */
    private static final class Reader {
        final Path file;
        final ByteBuffer b;
        int pos;

        Reader(Path file, ByteBuffer b) {
            this.file = file;
            this.b = b;
        }

        long remaining() {
            return b.limit() - pos;
        }

        void need(long n, String what) {
            if (n < 0 || n > remaining()) {
                throw new ModelFormatException(file, "truncated or corrupt header: " + what + " needs " + n
                        + " bytes at offset " + pos + ", " + remaining() + " remain");
            }
        }

        int u32() {
            need(4, "a u32");
            int v = b.getInt(pos);
            pos += 4;
            return v;
        }

        long u64() {
            need(8, "a u64");
            long v = b.getLong(pos);
            pos += 8;
            return v;
        }

        String string() {
            long len = u64();
            if (len > MAX_STRING) {
                throw new ModelFormatException(file, "a string claims " + len + " bytes at offset " + pos);
            }
            need(len, "a string");
            byte[] bytes = new byte[(int) len];
            b.get(pos, bytes);
            pos += (int) len;
            return new String(bytes, StandardCharsets.UTF_8);
        }

        Object value(int type, String key) {
            switch (type) {
                case 0: need(1, key); return (int) (b.get(pos++) & 0xff);
                case 1: need(1, key); return (int) b.get(pos++);
                case 2: need(2, key); pos += 2; return (int) (b.getShort(pos - 2) & 0xffff);
                case 3: need(2, key); pos += 2; return (int) b.getShort(pos - 2);
                case 4: return Integer.toUnsignedLong(u32());
                case 5: return u32();
                case 6: need(4, key); pos += 4; return b.getFloat(pos - 4);
                case 7: need(1, key); return b.get(pos++) != 0;
                case 8: return string();
                case 9: {
                    int elemType = u32();
                    long count = u64();
                    if (count < 0 || count > remaining()) {
                        throw new ModelFormatException(file, "metadata " + key + " claims " + count + " elements");
                    }
                    List<Object> list = new ArrayList<>((int) Math.min(count, 1 << 20));
                    for (long i = 0; i < count; i++) {
                        list.add(value(elemType, key));
                    }
                    return list;
                }
                case 10: return u64();
                case 11: return u64();
                case 12: need(8, key); pos += 8; return b.getDouble(pos - 8);
                default: throw new ModelFormatException(file, "metadata " + key + " has unknown value type " + type);
            }
        }
    }
}
