package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.cli.Main;
import picocli.CommandLine;

/** Every tensor type loads to the same model; every broken file is refused with its name and the problem. */
class ModelFilesTest {

    @TempDir
    Path dir;

    @Test
    void quantizedAndHalfTypesMatchFloat32() throws Exception {
        Path f32 = TinyModels.llamaGguf(dir.resolve("f32.gguf"), GgufFile.GgmlType.F32, 1, 256);
        try (LanguageModel reference = LanguageModel.load(f32, Device.cpu())) {
            int[] ids = reference.tokenizer().encode("Once upon a time, a dog", true);
            float[] want = Forward.logits(reference, ids, null);
            float scale = 0;
            for (float v : want) {
                scale = Math.max(scale, Math.abs(v));
            }
            Map<GgufFile.GgmlType, Float> tolerance = Map.of(GgufFile.GgmlType.F16, 2e-3f,
                    GgufFile.GgmlType.BF16, 3e-2f, GgufFile.GgmlType.Q8_0, 1e-1f);
            for (Map.Entry<GgufFile.GgmlType, Float> e : tolerance.entrySet()) {
                Path p = TinyModels.llamaGguf(dir.resolve(e.getKey() + ".gguf"), e.getKey(), 1, 256);
                try (LanguageModel lm = LanguageModel.load(p, Device.cpu())) {
                    float rel = Forward.maxAbsDiff(want, Forward.logits(lm, ids, null)) / scale;
                    assertTrue(rel > 0 && rel < e.getValue(), e.getKey() + ": relative logit error " + rel);
                }
            }
        }
    }

    @Test
    void dequantizesExactly() throws Exception {
        float[] x = TinyModels.random(new java.util.Random(3), 2f, 64, 32).data();
        Path p = dir.resolve("one.gguf");
        GgufWriter w = new GgufWriter().meta("general.architecture", "llama");
        // The types this writer encodes; the others come from llama.cpp's own files (QuantizedGgufTest).
        for (GgufFile.GgmlType type : List.of(GgufFile.GgmlType.F32, GgufFile.GgmlType.F16, GgufFile.GgmlType.BF16,
                GgufFile.GgmlType.Q8_0)) {
            w.tensor("t." + type, new HostTensor(new long[] {64, 32}, x), type);
        }
        w.write(p);
        GgufFile g = GgufFile.open(p);
        float[] q8 = g.read("t.Q8_0").data();
        float[] f16 = g.read("t.F16").data();
        float[] bf16 = g.read("t.BF16").data();
        float[] f32 = g.read("t.F32").data();
        for (int i = 0; i < x.length; i++) {
            int blk = i / 32;
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[blk * 32 + j]));
            }
            float d = Half.f16(GgufWriter.toHalf(amax / 127f));
            assertEquals(d * Math.round(x[i] / d), q8[i], "q8_0 value " + i);
            assertEquals(Half.f16(GgufWriter.toHalf(x[i])), f16[i], "f16 value " + i);
            assertEquals(Float.intBitsToFloat(Float.floatToIntBits(x[i]) & 0xffff0000), bf16[i]);
            assertEquals(x[i], f32[i]);
        }
        assertEquals(64, g.read("t.F32").shape()[0], "row-major shape");
    }

    @Test
    void truncatedGgufNamesFileAndProblem() throws Exception {
        byte[] whole = Files.readAllBytes(SharedData.stories260K());
        Path cut = dir.resolve("cut.gguf");
        Files.write(cut, Arrays.copyOf(whole, whole.length / 2));
        assertRefused(cut, "outside the file");
        Path headerOnly = dir.resolve("header.gguf");
        Files.write(headerOnly, Arrays.copyOf(whole, 3000));
        assertRefused(headerOnly, "truncated or corrupt header");
    }

    @Test
    void absurdGgufHeadersAreRefusedWithoutAllocating() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(1L << 40).putLong(1);
        Path absurdCount = dir.resolve("count.gguf");
        Files.write(absurdCount, b.array());
        assertRefused(absurdCount, "more than a 64-byte file can hold");

        b.clear();
        b.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(0).putLong(1).putLong(Long.MAX_VALUE / 2);
        Path absurdString = dir.resolve("string.gguf");
        Files.write(absurdString, b.array());
        assertRefused(absurdString, "a string claims");

        Path notGguf = dir.resolve("text.gguf");
        Files.writeString(notGguf, "this is not a model at all, just some text to fill the header");
        assertRefused(notGguf, "not a GGUF file");
    }

    @Test
    void unsupportedArchitectureAndTensorType() throws Exception {
        Path mamba = dir.resolve("mamba.gguf");
        new GgufWriter().meta("general.architecture", "mamba").write(mamba);
        assertRefused(mamba, "architecture 'mamba' is not supported");

        Path tiny = TinyModels.llamaGguf(dir.resolve("tiny.gguf"), GgufFile.GgmlType.F32, 1, 64);
        byte[] bytes = Files.readAllBytes(tiny);
        // Rewrite the first tensor's type (f32 = 0) to TQ2_0 (35), which LAAI does not load.
        byte[] name = "token_embd.weight".getBytes(StandardCharsets.US_ASCII);
        int at = indexOf(bytes, name) + name.length + 4 + 16;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(at, 35);
        Path tq = dir.resolve("tq2.gguf");
        Files.write(tq, bytes);
        assertRefused(tq, "token_embd.weight has ggml type TQ2_0 (35)");
    }

    @Test
    void brokenSafetensorsAreRefused() throws Exception {
        Path ckpt = dir.resolve("ckpt");
        Llama2cCheckpoint.writeHfCheckpoint(SharedData.model("stories260K/stories260K.bin"),
                GgufTokenizer.toTokenizerJson(GgufFile.open(SharedData.stories260K())), ckpt);
        Path weights = ckpt.resolve("model.safetensors");
        byte[] good = Files.readAllBytes(weights);

        Files.write(weights, Arrays.copyOf(good, good.length - 100));
        assertRefused(ckpt, "(truncated)");

        byte[] absurd = good.clone();
        ByteBuffer.wrap(absurd).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 50);
        Files.write(weights, absurd);
        assertRefused(ckpt, "header length 1125899906842624 is absurd");

        int headerLen = (int) ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(good, 8, headerLen, StandardCharsets.UTF_8);
        writeWithHeader(weights, good, header.replaceFirst("\"F32\"", "\"I8\""), headerLen);
        assertRefused(ckpt, "dtype 'I8'");

        writeWithHeader(weights, good, header.replaceFirst("\"data_offsets\":\\[0,", "\"data_offsets\":[4,"), headerLen);
        assertRefused(ckpt, "data_offsets give");

        writeWithHeader(weights, good, "{not json" + " ".repeat(headerLen - 9), headerLen);
        assertRefused(ckpt, "not valid JSON");

        Files.write(weights, good);
        Files.writeString(ckpt.resolve("config.json"), "{\"model_type\": \"bert\"}");
        assertRefused(ckpt, "model_type 'bert' is not supported");
    }

    @Test
    void cliReportsABrokenModelInOneLine() throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.writeString(bad, "GGUF but not really a model file; too short to hold anything useful");
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("generate", "--model", bad.toString(), "--prompt", "hi");
        assertEquals(2, code);
        String message = err.toString().trim();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.startsWith("error: " + bad), message);
    }

    private static void writeWithHeader(Path file, byte[] good, String header, int headerLen) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.write(h);
        out.write(good, 8 + headerLen, good.length - 8 - headerLen);
        Files.write(file, out.toByteArray());
    }

    private static void assertRefused(Path file, String problem) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> {
            try (LanguageModel lm = LanguageModel.load(file, Device.cpu())) {
                // loading alone must fail
            }
        });
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(problem), "says '" + problem + "': " + e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
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
