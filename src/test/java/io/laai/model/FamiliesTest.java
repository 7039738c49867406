package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import io.laai.SharedData;

/** Qwen2's q/k/v biases and rotary scaling, on tiny generated checkpoints. */
class FamiliesTest {

    @TempDir
    Path dir;

    @Test
    void qwen2BiasesLoadFromHfAndGgufAlike() throws Exception {
        GgufFile vocab = GgufFile.open(SharedData.stories260K());
        int v = vocab.array("tokenizer.ggml.tokens").size();
        Random r = new Random(9);
        int d = 32;
        int kv = 16;
        int ff = 64;
        Map<String, HostTensor> w = new LinkedHashMap<>();
        w.put("model.embed_tokens.weight", TinyModels.random(r, 1f, v, d));
        w.put("model.norm.weight", TinyModels.ones(d));
        String p = "model.layers.0.";
        w.put(p + "input_layernorm.weight", TinyModels.ones(d));
        w.put(p + "post_attention_layernorm.weight", TinyModels.ones(d));
        w.put(p + "self_attn.q_proj.weight", TinyModels.random(r, 0.3f, d, d));
        w.put(p + "self_attn.q_proj.bias", TinyModels.random(r, 0.5f, d));
        w.put(p + "self_attn.k_proj.weight", TinyModels.random(r, 0.3f, kv, d));
        w.put(p + "self_attn.k_proj.bias", TinyModels.random(r, 0.5f, kv));
        w.put(p + "self_attn.v_proj.weight", TinyModels.random(r, 0.3f, kv, d));
        w.put(p + "self_attn.v_proj.bias", TinyModels.random(r, 0.5f, kv));
        w.put(p + "self_attn.o_proj.weight", TinyModels.random(r, 0.3f, d, d));
        w.put(p + "mlp.gate_proj.weight", TinyModels.random(r, 0.3f, ff, d));
        w.put(p + "mlp.up_proj.weight", TinyModels.random(r, 0.3f, ff, d));
        w.put(p + "mlp.down_proj.weight", TinyModels.random(r, 0.3f, d, ff));
        Path hf = Files.createDirectories(dir.resolve("qwen"));
        Safetensors.write(hf.resolve("model.safetensors"), w, Map.of("format", "pt"));
        Files.writeString(hf.resolve("tokenizer.json"), GgufTokenizer.toTokenizerJson(vocab));
        Files.writeString(hf.resolve("config.json"), """
                {"model_type": "qwen2", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                 "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": %d, "max_position_embeddings": 128,
                 "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": true,
                 "bos_token_id": 1, "eos_token_id": 2}
                """.formatted(v));
        // llama.cpp keeps qwen2's Q/K in rotate-half order: no permutation in GGUF.
        GgufWriter g = new GgufWriter().meta("general.architecture", "qwen2")
                .meta("qwen2.context_length", 128).meta("qwen2.embedding_length", d).meta("qwen2.feed_forward_length", ff)
                .meta("qwen2.attention.head_count", 4).meta("qwen2.attention.head_count_kv", 2).meta("qwen2.block_count", 1)
                .meta("qwen2.attention.layer_norm_rms_epsilon", 1e-6f).meta("qwen2.rope.freq_base", 1000000f)
                .meta("tokenizer.ggml.model", "llama").meta("tokenizer.ggml.tokens", vocab.array("tokenizer.ggml.tokens"))
                .meta("tokenizer.ggml.scores", vocab.array("tokenizer.ggml.scores"))
                .meta("tokenizer.ggml.token_type", vocab.array("tokenizer.ggml.token_type"));
        GgufFile.GgmlType f32 = GgufFile.GgmlType.F32;
        g.tensor("token_embd.weight", w.get("model.embed_tokens.weight"), f32).tensor("output_norm.weight", w.get("model.norm.weight"), f32);
        String[][] names = {{"attn_norm.weight", "input_layernorm.weight"}, {"ffn_norm.weight", "post_attention_layernorm.weight"},
                {"attn_q.weight", "self_attn.q_proj.weight"}, {"attn_q.bias", "self_attn.q_proj.bias"},
                {"attn_k.weight", "self_attn.k_proj.weight"}, {"attn_k.bias", "self_attn.k_proj.bias"},
                {"attn_v.weight", "self_attn.v_proj.weight"}, {"attn_v.bias", "self_attn.v_proj.bias"},
                {"attn_output.weight", "self_attn.o_proj.weight"}, {"ffn_gate.weight", "mlp.gate_proj.weight"},
                {"ffn_up.weight", "mlp.up_proj.weight"}, {"ffn_down.weight", "mlp.down_proj.weight"}};
        for (String[] n : names) {
            g.tensor("blk.0." + n[0], w.get(p + n[1]), f32);
        }
        g.write(dir.resolve("qwen.gguf"));
        try (LanguageModel a = LanguageModel.load(hf, Device.cpu());
                LanguageModel b = LanguageModel.load(dir.resolve("qwen.gguf"), Device.cpu())) {
            assertTrue(a.config().qkvBias() && b.config().qkvBias());
            int[] ids = a.tokenizer().encode("Once upon a time, a dog", true);
            float[] la = Forward.logits(a, ids, null);
            assertTrue(Forward.maxAbsDiff(la, Forward.logits(b, ids, null)) <= 1e-5f);
            // The biases are applied: without them the logits move.
            w.put(p + "self_attn.q_proj.bias", new HostTensor(new long[] {d}, new float[d]));
            w.put(p + "self_attn.k_proj.bias", new HostTensor(new long[] {kv}, new float[kv]));
            w.put(p + "self_attn.v_proj.bias", new HostTensor(new long[] {kv}, new float[kv]));
            Safetensors.write(hf.resolve("model.safetensors"), w, Map.of("format", "pt"));
            try (LanguageModel noBias = LanguageModel.load(hf, Device.cpu())) {
                assertTrue(Forward.maxAbsDiff(la, Forward.logits(noBias, ids, null)) > 1e-3f);
            }
        }
    }

    @Test
    void generationConfigSuppliesDefaults() throws Exception {
        Path ckpt = dir.resolve("gen");
        Llama2cCheckpoint.writeHfCheckpoint(SharedData.model("stories260K/stories260K.bin"),
                GgufTokenizer.toTokenizerJson(GgufFile.open(SharedData.stories260K())), ckpt);
        Files.writeString(ckpt.resolve("generation_config.json"),
                "{\"do_sample\": true, \"temperature\": 0.7, \"top_p\": 0.9, \"max_new_tokens\": 12}");
        try (LanguageModel lm = LanguageModel.load(ckpt, Device.cpu())) {
            SamplingParams p = lm.generationDefaults().resolve(null, null, null, 1, null);
            assertEquals(12, p.maxTokens());
            assertEquals(0.7, p.temperature());
            assertEquals(0.9, p.topP());
            assertEquals(0.0, lm.generationDefaults().resolve(null, 0.0, null, 1, null).temperature(), "the request wins");
        }
        Files.writeString(ckpt.resolve("generation_config.json"), "{\"do_sample\": false, \"temperature\": 0.6}");
        try (LanguageModel lm = LanguageModel.load(ckpt, Device.cpu())) {
            assertEquals(0.0, lm.generationDefaults().resolve(null, null, null, 1, null).temperature(), "do_sample=false is greedy");
            assertEquals(256, lm.generationDefaults().resolve(null, null, null, 1, null).maxTokens());
        }
    }

    @Test
    void rotaryScalingFollowsLlama3AndLinear() {
        ModelConfig.RopeScaling llama3 = new ModelConfig.RopeScaling("llama3", 8, 1, 4, 8192);
        ModelConfig base = config(null);
        ModelConfig scaled = config(llama3);
        double[] plain = RopeTable.inverseFrequencies(base);
        double[] adjusted = RopeTable.inverseFrequencies(scaled);
        for (int i = 0; i < plain.length; i++) {
            double wavelen = 2 * Math.PI / plain[i];
            if (wavelen < 8192 / 4.0) {
                assertEquals(plain[i], adjusted[i], 0, "high frequencies are kept, i=" + i);
            } else if (wavelen > 8192 / 1.0) {
                assertEquals(plain[i] / 8, adjusted[i], 1e-15, "low frequencies are divided by the factor, i=" + i);
            } else {
                assertTrue(adjusted[i] < plain[i] && adjusted[i] > plain[i] / 8, "smooth in between, i=" + i);
            }
        }
        double[] linear = RopeTable.inverseFrequencies(config(new ModelConfig.RopeScaling("linear", 4, 0, 0, 0)));
        for (int i = 0; i < plain.length; i++) {
            assertEquals(plain[i] / 4, linear[i], 1e-18);
        }
    }

    private static ModelConfig config(ModelConfig.RopeScaling scaling) {
        return new ModelConfig(ModelConfig.Family.LLAMA, 100, 4096, 128, 1, 32, 8, 128, 8192, 1e-5, 500000, scaling,
                false, false, 1, java.util.List.of(2));
    }
}
