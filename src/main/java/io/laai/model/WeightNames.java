package io.laai.model;

import java.util.List;

/**
 * The model definition's weight names (Hugging Face's) per family, in the runtime layout every
 * loader produces: the one place both engines read them from. Lists are concatenated by rows
 * (q, k, v; gate, up) and split again by their widths.
 */
public final class WeightNames {

    private WeightNames() {
    }

    /** One block's weights; a null name or an empty list: the family has none. */
    public record Layer(String attnNorm, String attnNormBias, List<String> qkv, List<String> qkvBias, String o,
            String oBias, String mlpNorm, String mlpNormBias, List<String> up, String upBias, String down,
            String downBias) {
    }

    public static String embed(ModelConfig c) {
        return c.family() == ModelConfig.Family.GPT2 ? "transformer.wte.weight" : "model.embed_tokens.weight";
    }

    /** GPT-2's learned positions; null for rotary families. */
    public static String positions(ModelConfig c) {
        return c.family() == ModelConfig.Family.GPT2 ? "transformer.wpe.weight" : null;
    }

    public static String finalNorm(ModelConfig c) {
        return c.family() == ModelConfig.Family.GPT2 ? "transformer.ln_f.weight" : "model.norm.weight";
    }

    public static String finalNormBias(ModelConfig c) {
        return c.family() == ModelConfig.Family.GPT2 ? "transformer.ln_f.bias" : null;
    }

    public static final String LM_HEAD = "lm_head.weight";

    /** Whether the output projection is the token embedding: tied by config, or no lm_head in the file. */
    public static boolean tiedHead(ModelConfig c, java.util.Map<String, ?> weights) {
        return c.tieWordEmbeddings() || !weights.containsKey(LM_HEAD);
    }

    public static Layer layer(ModelConfig c, int i) {
        if (c.family() == ModelConfig.Family.GPT2) {
            String p = "transformer.h." + i + ".";
            return new Layer(p + "ln_1.weight", p + "ln_1.bias", List.of(p + "attn.c_attn.weight"),
                    List.of(p + "attn.c_attn.bias"), p + "attn.c_proj.weight", p + "attn.c_proj.bias", p + "ln_2.weight",
                    p + "ln_2.bias", List.of(p + "mlp.c_fc.weight"), p + "mlp.c_fc.bias", p + "mlp.c_proj.weight",
                    p + "mlp.c_proj.bias");
        }
        String p = "model.layers." + i + ".";
        List<String> bias = c.qkvBias() ? List.of(p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias",
                p + "self_attn.v_proj.bias") : List.of();
        return new Layer(p + "input_layernorm.weight", null, List.of(p + "self_attn.q_proj.weight",
                p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"), bias, p + "self_attn.o_proj.weight", null,
                p + "post_attention_layernorm.weight", null, List.of(p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"),
                null, p + "mlp.down_proj.weight", null);
    }
}
