package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GGUF model's weights are read from the file when an engine asks for them, so that loading
 * holds an engine's own copy and one tensor beside it, not the whole file as well; a file that
 * lacks a tensor is still refused when it is loaded.
 */
class GgufModelLoaderTest {

    @TempDir
    Path dir;

    @Test
    void weightsAreReadWhenAskedForAndHeldByNoOne() throws IOException {
        Path gguf = TinyModels.llamaGguf(dir.resolve("tiny.gguf"), GgufFile.GgmlType.Q8_0, 3, 64);
        LoadedModel loaded = GgufModelLoader.load(gguf);
        String name = "model.layers.1.mlp.down_proj.weight";
        Weight first = loaded.weights().get(name);
        Weight second = loaded.weights().get(name);
        assertNotSame(first, second, "each get reads the tensor anew: the map keeps none");
        assertEquals(GgufFile.GgmlType.Q8_0, ((PackedTensor) first).type());
        assertArrayEquals(first.host().data(), second.host().data());
        assertArrayEquals(GgufFile.open(gguf).read("blk.1.ffn_down.weight").data(), first.host().data());
        // q and k come out of llama.cpp's interleaved rotary layout whichever way they are read
        String q = "model.layers.0.self_attn.q_proj.weight";
        assertArrayEquals(loaded.weights().get(q).host().data(),
                loaded.weights().entrySet().stream().filter(e -> e.getKey().equals(q)).findFirst().orElseThrow()
                        .getValue().host().data());
        assertEquals(2 + 9 * TinyModels.LAYERS, loaded.weights().size());
        assertThrows(UnsupportedOperationException.class, () -> loaded.weights().clear());
    }

    @Test
    void aMissingTensorIsRefusedAtLoadNamingIt() throws IOException {
        Random r = new Random(1);
        int d = 32;
        GgufWriter w = new GgufWriter()
                .meta("general.architecture", "llama")
                .meta("llama.context_length", 64)
                .meta("llama.embedding_length", d)
                .meta("llama.feed_forward_length", 64)
                .meta("llama.attention.head_count", 4)
                .meta("llama.block_count", 1)
                .meta("tokenizer.ggml.model", "llama")
                .meta("tokenizer.ggml.tokens", List.of("<unk>", "<s>", "</s>", "a"));
        w.tensor("token_embd.weight", TinyModels.random(r, 1f, 4, d), GgufFile.GgmlType.F32);
        w.tensor("output_norm.weight", TinyModels.ones(d), GgufFile.GgmlType.F32);
        for (String t : List.of("attn_q", "attn_k", "attn_v", "attn_output")) {
            w.tensor("blk.0." + t + ".weight", TinyModels.random(r, 0.3f, d, d), GgufFile.GgmlType.F32);
        }
        w.tensor("blk.0.attn_norm.weight", TinyModels.ones(d), GgufFile.GgmlType.F32);
        w.tensor("blk.0.ffn_norm.weight", TinyModels.ones(d), GgufFile.GgmlType.F32);
        w.tensor("blk.0.ffn_gate.weight", TinyModels.random(r, 0.3f, 64, d), GgufFile.GgmlType.F32);
        w.tensor("blk.0.ffn_up.weight", TinyModels.random(r, 0.3f, 64, d), GgufFile.GgmlType.F32);
        // no blk.0.ffn_down.weight
        Path file = dir.resolve("missing.gguf");
        w.write(file);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufModelLoader.load(file));
        assertTrue(e.getMessage().contains("tensor blk.0.ffn_down.weight is missing"), e.getMessage());
    }
}
