package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.Device;
import io.laai.SharedData;

/**
 * The GGUF path for GPT-2: the transformers checkpoint written as GGUF the way llama.cpp lays it
 * out (projections [out, in], byte-level BPE vocabulary and merges in metadata) gives the same
 * logits and, through the vocabulary rebuilt from metadata, the same token ids.
 */
class Gpt2GgufTest {

    @TempDir
    Path dir;

    @Test
    void ggufEqualsTheHfCheckpoint() throws Exception {
        Path hf = SharedData.model("gpt2-fake-hf");
        LoadedModel loaded = HfCheckpointLoader.load(hf);
        JsonNode tok = new ObjectMapper().readTree(hf.resolve("tokenizer.json").toFile()).get("model");
        String[] tokens = new String[loaded.config().vocabSize()];
        tok.get("vocab").fields().forEachRemaining(e -> tokens[e.getValue().asInt()] = e.getKey());
        tokens[50256] = "<|endoftext|>";
        List<Object> types = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            types.add(i == 50256 ? 3 : 1);
        }
        List<Object> merges = new ArrayList<>();
        tok.get("merges").forEach(m -> merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText()));
        @SuppressWarnings("unchecked")
        Map<String, HostTensor> w = (Map<String, HostTensor>) loaded.weights(); // a checkpoint loads as float32
        GgufWriter g = new GgufWriter()
                .meta("general.architecture", "gpt2")
                .meta("gpt2.context_length", 1024)
                .meta("gpt2.embedding_length", 2)
                .meta("gpt2.feed_forward_length", 8)
                .meta("gpt2.attention.head_count", 1)
                .meta("gpt2.block_count", 1)
                .meta("gpt2.attention.layer_norm_epsilon", 1e-5f)
                .meta("tokenizer.ggml.model", "gpt2")
                .meta("tokenizer.ggml.tokens", Arrays.asList((Object[]) tokens))
                .meta("tokenizer.ggml.token_type", types)
                .meta("tokenizer.ggml.merges", merges)
                .meta("tokenizer.ggml.bos_token_id", 50256)
                .meta("tokenizer.ggml.eos_token_id", 50256);
        GgufFile.GgmlType f32 = GgufFile.GgmlType.F32;
        g.tensor("token_embd.weight", w.get("transformer.wte.weight"), f32)
                .tensor("position_embd.weight", w.get("transformer.wpe.weight"), f32)
                .tensor("output_norm.weight", w.get("transformer.ln_f.weight"), f32)
                .tensor("output_norm.bias", w.get("transformer.ln_f.bias"), f32);
        String[][] names = {{"attn_norm", "ln_1"}, {"attn_qkv", "attn.c_attn"}, {"attn_output", "attn.c_proj"},
                {"ffn_norm", "ln_2"}, {"ffn_up", "mlp.c_fc"}, {"ffn_down", "mlp.c_proj"}};
        for (String[] n : names) {
            g.tensor("blk.0." + n[0] + ".weight", w.get("transformer.h.0." + n[1] + ".weight"), f32);
            g.tensor("blk.0." + n[0] + ".bias", w.get("transformer.h.0." + n[1] + ".bias"), f32);
        }
        Path gguf = dir.resolve("gpt2.gguf");
        g.write(gguf);
        try (LanguageModel a = LanguageModel.load(hf, Device.cpu()); LanguageModel b = LanguageModel.load(gguf, Device.cpu())) {
            List<String> texts = List.of("Hello world", " Führer's 3..3 months", "\n\n  tabs\tand 🦙 emoji");
            for (String text : texts) {
                assertArrayEquals(a.tokenizer().encode(text, false), b.tokenizer().encode(text, false), text);
            }
            int[] ids = a.tokenizer().encode("Hello world, this is GPT-2", false);
            float diff = Forward.maxAbsDiff(Forward.logits(a, ids, null), Forward.logits(b, ids, null));
            assertTrue(diff <= 1e-6f, "max |logit difference| " + diff);
            assertEquals(a.fingerprint(), b.fingerprint());
            assertEquals("Hello world", b.tokenizer().decode(b.tokenizer().encode("Hello world", false)));
        }
        assertTrue(Files.size(gguf) > 0);
    }
}
