package io.laai.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads and writes the safetensors format (8-byte little-endian header length, JSON header,
 * raw little-endian data). The reader follows the reference implementation's checks: a capped
 * header, known dtypes, offsets that tile the data exactly, elements × dtype size = byte length.
 */
public final class Safetensors {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    /** A tensor's entry in the header. */
    public record Entry(String dtype, long[] shape, long begin, long end) {
    }

    /** A parsed file: metadata, tensor directory, and where its data starts. */
    public record Header(Path file, Map<String, String> metadata, Map<String, Entry> tensors, long dataStart) {
    }

    private Safetensors() {
    }

    public static Header readHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new ModelFormatException(file, "not a safetensors file: " + size + " bytes");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long n = len.getLong(0);
            if (n <= 0 || n > MAX_HEADER || n > size - 8) {
                throw new ModelFormatException(file, "safetensors header length " + n + " is absurd for a "
                        + size + "-byte file (truncated or not safetensors)");
            }
            ByteBuffer head = ByteBuffer.allocate((int) n);
            readFully(ch, head, 8);
            return parse(file, file.toString(), new String(head.array(), StandardCharsets.UTF_8), 8 + n, size);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage());
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static Header parse(Path file, String source, String json, long dataStart, long fileSize) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new ModelFormatException(source + ": safetensors header is not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(source + ": safetensors header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("__metadata__")) {
                f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            tensors.put(f.getKey(), entry(source, f.getKey(), f.getValue()));
        }
        long dataSize = fileSize - dataStart;
        List<Map.Entry<String, Entry>> ordered = new ArrayList<>(tensors.entrySet());
        ordered.sort(Comparator.comparingLong(e -> e.getValue().begin()));
        long expected = 0;
        for (Map.Entry<String, Entry> e : ordered) {
            Entry t = e.getValue();
            if (t.begin() != expected) {
                throw new ModelFormatException(source + ": tensor " + e.getKey() + " starts at " + t.begin()
                        + ", expected " + expected + ": offsets must be contiguous and not overlap");
            }
            expected = t.end();
        }
        if (expected > dataSize) {
            throw new ModelFormatException(source + ": tensors need " + expected + " data bytes, the file has " + dataSize
                    + " (truncated)");
        }
        return new Header(file, metadata, tensors, dataStart);
    }

    private static Entry entry(String file, String name, JsonNode node) {
        JsonNode offsets = node.get("data_offsets");
        JsonNode shapeNode = node.get("shape");
        String dtype = node.path("dtype").asText("");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2 || shapeNode == null || !shapeNode.isArray()) {
            throw new ModelFormatException(file + ": " + "tensor " + name + " lacks dtype, shape or data_offsets");
        }
        int elemSize = dtypeSize(file, name, dtype);
        long[] shape = new long[shapeNode.size()];
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
            if (shape[i] < 0) {
                throw new ModelFormatException(file + ": " + "tensor " + name + " has a negative dimension");
            }
            try {
                n = Math.multiplyExact(n, shape[i]);
            } catch (ArithmeticException e) {
                throw new ModelFormatException(file + ": " + "tensor " + name + " claims an absurd shape");
            }
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin) {
            throw new ModelFormatException(file + ": " + "tensor " + name + " has invalid data_offsets [" + begin + ", " + end + "]");
        }
        if (n > Integer.MAX_VALUE - 8 || n * elemSize != end - begin) {
            throw new ModelFormatException(file + ": " + "tensor " + name + ": " + n + " elements of " + dtype + " need "
                    + (n * elemSize) + " bytes, data_offsets give " + (end - begin));
        }
        return new Entry(dtype, shape, begin, end);
    }

    private static int dtypeSize(String file, String name, String dtype) {
        return switch (dtype) {
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            case "F64", "I64" -> 8;
            default -> throw new ModelFormatException(file + ": " + "tensor " + name + " has dtype '" + dtype
                    + "', which LAAI does not load (F32, F16, BF16)");
        };
    }

    /** Decodes a whole safetensors blob held in memory (artifacts from Kafka or HTTP): F32 tensors only. */
    public static Map<String, HostTensor> decode(byte[] data, String source, Map<String, String> metadataOut) {
        if (data.length < 8) {
            throw new ModelFormatException(source + ": not a safetensors blob (" + data.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        if (n <= 0 || n > MAX_HEADER || n > data.length - 8) {
            throw new ModelFormatException(source + ": safetensors header length " + n + " is absurd for "
                    + data.length + " bytes");
        }
        Header h = parse(null, source, new String(data, 8, (int) n, StandardCharsets.UTF_8), 8 + n, data.length);
        metadataOut.putAll(h.metadata());
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Entry> e : h.tensors().entrySet()) {
            if (!e.getValue().dtype().equals("F32")) {
                throw new ModelFormatException(source + ": tensor " + e.getKey() + " is " + e.getValue().dtype()
                        + ", expected F32");
            }
            float[] v = new float[(int) HostTensor.numel(e.getValue().shape())];
            ByteBuffer slice = ByteBuffer.wrap(data, (int) (h.dataStart() + e.getValue().begin()), 4 * v.length)
                    .order(ByteOrder.LITTLE_ENDIAN);
            slice.asFloatBuffer().get(v);
            out.put(e.getKey(), new HostTensor(e.getValue().shape(), v));
        }
        return out;
    }

    /** Reads one floating-point tensor as float32. */
    public static HostTensor read(Header h, String name) {
        Entry e = h.tensors().get(name);
        if (e == null) {
            throw new ModelFormatException(h.file(), "tensor " + name + " is missing");
        }
        int n = (int) HostTensor.numel(e.shape());
        float[] out = new float[n];
        try (FileChannel ch = FileChannel.open(h.file(), StandardOpenOption.READ)) {
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, h.dataStart() + e.begin(), e.end() - e.begin())
                    .order(ByteOrder.LITTLE_ENDIAN);
            switch (e.dtype()) {
                case "F32" -> b.asFloatBuffer().get(out);
                case "F16" -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = Half.f16(b.getShort());
                    }
                }
                case "BF16" -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = Half.bf16(b.getShort());
                    }
                }
                default -> throw new ModelFormatException(h.file(), "tensor " + name + " has dtype " + e.dtype()
                        + ", not a floating-point weight");
            }
        } catch (IOException ex) {
            throw new ModelFormatException(h.file(), "cannot read tensor " + name + ": " + ex.getMessage());
        }
        return new HostTensor(e.shape(), out);
    }

    /** Writes float32 tensors (in the given order) and string metadata, atomically. */
    public static void write(Path file, Map<String, HostTensor> tensors, Map<String, String> metadata)
            throws IOException {
        writeAtomically(file, encode(tensors, metadata));
    }

    /** Readers never see a half-written file: write beside it, then rename over it. */
    public static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path tmp = file.toAbsolutePath().resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Encodes float32 tensors (in the given order) and string metadata. */
    public static byte[] encode(Map<String, HostTensor> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            long bytes = 4L * e.getValue().data().length;
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        for (HostTensor t : tensors.values()) {
            for (float v : t.data()) {
                out.putFloat(v);
            }
        }
        return out.array();
    }
}
