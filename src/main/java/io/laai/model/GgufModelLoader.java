package io.laai.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Maps a GGUF file to LAAI's model: config from {@code <arch>.*} metadata with explicit defaults
 * where llama.cpp has them, tensors renamed to Hugging Face names, and Q/K un-permuted from
 * llama.cpp's interleaved rotary layout to the rotate-half layout the runtime uses.
 */
public final class GgufModelLoader {

    private GgufModelLoader() {
    }

    public static LoadedModel load(Path path) {
        GgufFile gguf = GgufFile.open(path);
        String arch = gguf.string("general.architecture");
        if (arch == null) {
            throw new ModelFormatException(path, "metadata general.architecture is missing");
        }
        ModelConfig config = switch (arch) {
            case "llama", "mistral", "qwen2" -> llamaConfig(gguf, arch);
            case "gpt2" -> gpt2Config(gguf);
            default -> throw new ModelFormatException(path, "architecture '" + arch
                    + "' is not supported (llama, mistral, qwen2, gpt2)");
        };
        Map<String, Weight> weights = config.family() == ModelConfig.Family.GPT2
                ? gpt2Weights(gguf, config) : llamaWeights(gguf, config, !arch.equals("qwen2"));
        String tokenizerJson = GgufTokenizer.toTokenizerJson(gguf);
        return new LoadedModel(path.getFileName().toString(), config, weights, tokenizerJson, GenerationDefaults.NONE,
                new LoadedModel.Chat(gguf.string("tokenizer.chat_template"), null, null));
    }

    private static ModelConfig llamaConfig(GgufFile g, String arch) {
        int heads = g.requireInt(arch + ".attention.head_count");
        int hidden = g.requireInt(arch + ".embedding_length");
        int headDim = g.number(arch + ".rope.dimension_count", hidden / heads).intValue();
        ModelConfig.RopeScaling scaling = null;
        String scalingType = g.string(arch + ".rope.scaling.type");
        if ("linear".equals(scalingType)) {
            scaling = new ModelConfig.RopeScaling("linear", g.number(arch + ".rope.scaling.factor", 1.0).doubleValue(),
                    0, 0, 0);
        }
        return new ModelConfig(ModelConfig.Family.LLAMA, vocabSize(g), hidden,
                g.requireInt(arch + ".feed_forward_length"), g.requireInt(arch + ".block_count"), heads,
                g.number(arch + ".attention.head_count_kv", heads).intValue(), headDim,
                g.number(arch + ".context_length", 2048).intValue(),
                g.number(arch + ".attention.layer_norm_rms_epsilon", 1e-5).doubleValue(),
                g.number(arch + ".rope.freq_base", 10000.0).doubleValue(), scaling,
                g.tensors().containsKey("blk.0.attn_q.bias"), !g.tensors().containsKey("output.weight"),
                g.number("tokenizer.ggml.bos_token_id", 1).intValue(), eos(g, 2));
    }

    private static ModelConfig gpt2Config(GgufFile g) {
        int heads = g.requireInt("gpt2.attention.head_count");
        int hidden = g.requireInt("gpt2.embedding_length");
        return new ModelConfig(ModelConfig.Family.GPT2, vocabSize(g), hidden, g.requireInt("gpt2.feed_forward_length"),
                g.requireInt("gpt2.block_count"), heads, heads, hidden / heads, g.requireInt("gpt2.context_length"),
                g.number("gpt2.attention.layer_norm_epsilon", 1e-5).doubleValue(), 0, null, true,
                !g.tensors().containsKey("output.weight"),
                g.number("tokenizer.ggml.bos_token_id", 50256).intValue(), eos(g, 50256));
    }

    private static int vocabSize(GgufFile g) {
        List<Object> tokens = g.array("tokenizer.ggml.tokens");
        if (tokens == null) {
            throw new ModelFormatException(g.file(), "metadata tokenizer.ggml.tokens is missing");
        }
        return tokens.size();
    }

    private static List<Integer> eos(GgufFile g, int fallback) {
        List<Integer> ids = new ArrayList<>();
        ids.add(g.number("tokenizer.ggml.eos_token_id", fallback).intValue());
        Number eot = g.number("tokenizer.ggml.eot_token_id", null);
        if (eot != null && eot.intValue() != ids.get(0)) {
            ids.add(eot.intValue());
        }
        return ids;
    }

    /** Q or K (weight or bias), its rows un-permuted from llama.cpp's interleaved rotary layout where it has one. */
    private static Supplier<Weight> rotary(GgufFile g, String name, boolean interleaved, int heads) {
        Supplier<Weight> read = read(g, name);
        return interleaved ? () -> Rotary.interleavedToHalf(read.get(), heads) : read;
    }

    /** How tensor name is read; a file without it is refused now, not when an engine asks for it. */
    private static Supplier<Weight> read(GgufFile g, String name) {
        if (!g.tensors().containsKey(name)) {
            throw new ModelFormatException(g.file(), "tensor " + name + " is missing");
        }
        return () -> g.load(name);
    }

    // Weights are read from the file when asked for (FileWeights): an engine's own copy is then
    // the only one held once the model is loaded, and while it loads, one tensor beside it.
    private static Map<String, Weight> llamaWeights(GgufFile g, ModelConfig c, boolean interleavedRope) {
        FileWeights w = new FileWeights();
        w.put("model.embed_tokens.weight", read(g, "token_embd.weight"));
        w.put("model.norm.weight", read(g, "output_norm.weight"));
        if (!c.tieWordEmbeddings()) {
            w.put("lm_head.weight", read(g, "output.weight"));
        }
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String b = "blk." + i + ".";
            String l = "model.layers." + i + ".";
            w.put(l + "self_attn.q_proj.weight", rotary(g, b + "attn_q.weight", interleavedRope, c.numAttentionHeads()));
            w.put(l + "self_attn.k_proj.weight", rotary(g, b + "attn_k.weight", interleavedRope, c.numKeyValueHeads()));
            w.put(l + "self_attn.v_proj.weight", read(g, b + "attn_v.weight"));
            w.put(l + "self_attn.o_proj.weight", read(g, b + "attn_output.weight"));
            if (c.qkvBias()) {
                w.put(l + "self_attn.q_proj.bias", rotary(g, b + "attn_q.bias", interleavedRope, c.numAttentionHeads()));
                w.put(l + "self_attn.k_proj.bias", rotary(g, b + "attn_k.bias", interleavedRope, c.numKeyValueHeads()));
                w.put(l + "self_attn.v_proj.bias", read(g, b + "attn_v.bias"));
            }
            w.put(l + "input_layernorm.weight", read(g, b + "attn_norm.weight"));
            w.put(l + "post_attention_layernorm.weight", read(g, b + "ffn_norm.weight"));
            w.put(l + "mlp.gate_proj.weight", read(g, b + "ffn_gate.weight"));
            w.put(l + "mlp.up_proj.weight", read(g, b + "ffn_up.weight"));
            w.put(l + "mlp.down_proj.weight", read(g, b + "ffn_down.weight"));
        }
        return w;
    }

    private static Map<String, Weight> gpt2Weights(GgufFile g, ModelConfig c) {
        FileWeights w = new FileWeights();
        w.put("transformer.wte.weight", read(g, "token_embd.weight"));
        w.put("transformer.wpe.weight", read(g, "position_embd.weight"));
        w.put("transformer.ln_f.weight", read(g, "output_norm.weight"));
        w.put("transformer.ln_f.bias", read(g, "output_norm.bias"));
        if (!c.tieWordEmbeddings()) {
            w.put("lm_head.weight", read(g, "output.weight"));
        }
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String b = "blk." + i + ".";
            String l = "transformer.h." + i + ".";
            // llama.cpp stores GPT-2's projections as [out, in] already: the runtime layout.
            w.put(l + "ln_1.weight", read(g, b + "attn_norm.weight"));
            w.put(l + "ln_1.bias", read(g, b + "attn_norm.bias"));
            w.put(l + "attn.c_attn.weight", read(g, b + "attn_qkv.weight"));
            w.put(l + "attn.c_attn.bias", read(g, b + "attn_qkv.bias"));
            w.put(l + "attn.c_proj.weight", read(g, b + "attn_output.weight"));
            w.put(l + "attn.c_proj.bias", read(g, b + "attn_output.bias"));
            w.put(l + "ln_2.weight", read(g, b + "ffn_norm.weight"));
            w.put(l + "ln_2.bias", read(g, b + "ffn_norm.bias"));
            w.put(l + "mlp.c_fc.weight", read(g, b + "ffn_up.weight"));
            w.put(l + "mlp.c_fc.bias", read(g, b + "ffn_up.bias"));
            w.put(l + "mlp.c_proj.weight", read(g, b + "ffn_down.weight"));
            w.put(l + "mlp.c_proj.bias", read(g, b + "ffn_down.bias"));
        }
        return w;
    }
}
