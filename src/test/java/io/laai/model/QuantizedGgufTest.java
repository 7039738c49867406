package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.Device;
import io.laai.SharedData;

/**
 * Real quantized files: one random-weight Llama quantized by llama.cpp's own llama-quantize to ten
 * types (../shared/models/quantized). Every tensor must dequantize to exactly what llama.cpp
 * dequantizes it to (the SHA-256 of its float32 bytes), and each file must give the logits of the
 * same weights loaded as float32.
 */
class QuantizedGgufTest {

    static Path dir() {
        return SharedData.model("quantized");
    }

    static String sha256(float[] values) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }

    @Test
    void everyTensorOfEveryTypeDequantizesExactlyAsLlamaCppDoes() throws Exception {
        JsonNode reference = new ObjectMapper().readTree(dir().resolve("dequantized-reference.json").toFile());
        TreeSet<String> types = new TreeSet<>();
        List<String> wrong = new ArrayList<>();
        int tensors = 0;
        for (var file : (Iterable<Map.Entry<String, JsonNode>>) reference::fields) {
            GgufFile g = GgufFile.open(dir().resolve(file.getKey()));
            assertEquals(file.getValue().size(), g.tensors().size(), file.getKey());
            for (var t : (Iterable<Map.Entry<String, JsonNode>>) file.getValue()::fields) {
                GgufFile.TensorInfo info = g.tensors().get(t.getKey());
                assertEquals(t.getValue().path("type").asText(), info.type().name(), file.getKey() + " " + t.getKey());
                HostTensor h = g.read(t.getKey());
                List<Long> shape = new ArrayList<>();
                t.getValue().path("shape").forEach(d -> shape.add(d.asLong()));
                assertEquals(shape, java.util.Arrays.stream(h.shape()).boxed().toList(), t.getKey());
                if (!sha256(h.data()).equals(t.getValue().path("f32_sha256").asText())) {
                    wrong.add(file.getKey() + " " + t.getKey() + " (" + info.type() + "): first values "
                            + java.util.Arrays.toString(java.util.Arrays.copyOf(h.data(), 4)) + " vs "
                            + t.getValue().path("first8"));
                }
                types.add(info.type().name());
                tensors++;
            }
        }
        assertEquals(List.of(), wrong, "tensors whose dequantization differs from llama.cpp's");
        assertEquals(new TreeSet<>(List.of("F32", "Q2_K", "Q3_K", "Q4_0", "Q4_1", "Q4_K", "Q5_0", "Q5_1", "Q5_K", "Q6_K",
                "Q8_0")), types, "every type the fixtures hold was checked");
        assertTrue(tensors > 100, "tensors checked: " + tensors);
    }

    @Test
    void eachQuantizedFileGivesTheLogitsOfItsWeightsLoadedAsFloat32(@TempDir Path tmp) throws Exception {
        int[] ids = {1, 403, 407, 261, 378, 10, 56, 300};
        try (var files = Files.list(dir())) {
            for (Path quantized : files.filter(p -> p.toString().endsWith(".gguf") && !p.toString().endsWith("f32.gguf"))
                    .sorted().toList()) {
                GgufFile g = GgufFile.open(quantized);
                GgufWriter w = new GgufWriter();
                g.metadata().forEach(w::meta);
                for (String name : g.tensors().keySet()) {
                    w.tensor(name, g.read(name), GgufFile.GgmlType.F32);
                }
                Path f32 = tmp.resolve(quantized.getFileName() + ".f32.gguf");
                w.write(f32);
                float[] a;
                float[] b;
                try (LanguageModel q = LanguageModel.load(quantized, Device.cpu())) {
                    a = Forward.logits(q, ids, null);
                }
                try (LanguageModel f = LanguageModel.load(f32, Device.cpu())) {
                    b = Forward.logits(f, ids, null);
                }
                assertArrayEquals(b, a, quantized.getFileName().toString());
            }
        }
    }

    @Test
    void aTypeLaaiDoesNotLoadIsRefusedNamingTheTensorAndItsType(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("iq.gguf");
        byte[] bytes = Files.readAllBytes(dir().resolve("tiny-random-llama-Q4_0.gguf"));
        GgufFile g = GgufFile.open(dir().resolve("tiny-random-llama-Q4_0.gguf"));
        String name = "blk.0.attn_q.weight";
        // Rewrite that tensor's type id in the header to IQ2_XXS (16).
        byte[] key = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int at = indexOf(bytes, key) + key.length;
        int dims = ByteBuffer.wrap(bytes, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        int typeAt = at + 4 + 8 * dims;
        assertEquals(GgufFile.GgmlType.Q4_0, g.tensors().get(name).type());
        ByteBuffer.wrap(bytes, typeAt, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(16);
        Files.write(f, bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(f));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains("IQ2_XXS"), e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
