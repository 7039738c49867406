package io.laai.model;

import java.util.List;
import java.util.Locale;

/**
 * The architecture of a decoder-only transformer, in Hugging Face's names. One record covers
 * every family LAAI runs; the family switches the few places where they differ.
 *
 * @param family            Llama-style (RMSNorm, rotary, gated SiLU MLP; Llama, Mistral, Qwen2) or GPT-2
 * @param numKeyValueHeads  fewer than numAttentionHeads under grouped-query attention
 * @param headDim           size of one attention head (d)
 * @param qkvBias           Qwen2 and GPT-2 add a bias to the q/k/v projections
 * @param ropeScaling       null, or the llama3 / linear rotary scaling
 */
public record ModelConfig(
        Family family,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        int maxPositionEmbeddings,
        double normEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean qkvBias,
        boolean tieWordEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds) {

    public enum Family {
        LLAMA, GPT2;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Rotary scaling: type "llama3" (with factor, low/high frequency factors, original context) or "linear". */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
            int originalMaxPositionEmbeddings) {
    }

    public ModelConfig {
        check(vocabSize > 0, "vocab_size", vocabSize);
        check(hiddenSize > 0, "hidden_size", hiddenSize);
        check(numHiddenLayers > 0, "num_hidden_layers", numHiddenLayers);
        check(numAttentionHeads > 0, "num_attention_heads", numAttentionHeads);
        check(numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0, "num_key_value_heads (must divide "
                + numAttentionHeads + " attention heads)", numKeyValueHeads);
        check(headDim > 0, "head_dim", headDim);
        check(family == Family.GPT2 || headDim % 2 == 0, "head_dim (rotary needs it even)", headDim);
        check(intermediateSize > 0, "intermediate_size", intermediateSize);
        check(maxPositionEmbeddings > 0, "max_position_embeddings", maxPositionEmbeddings);
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    private static void check(boolean ok, String field, Object value) {
        if (!ok) {
            throw new ModelFormatException("invalid model config: " + field + " = " + value);
        }
    }

    /**
     * A stable text form, hashed into the model fingerprint. Epsilon and rotary base are compared
     * at float precision: GGUF stores them as float32, config.json as decimal.
     */
    public String canonical() {
        return String.join("|", family.id(), "v" + vocabSize, "d" + hiddenSize, "ff" + intermediateSize,
                "l" + numHiddenLayers, "h" + numAttentionHeads, "kv" + numKeyValueHeads, "hd" + headDim,
                "ctx" + maxPositionEmbeddings, "eps" + (float) normEps, "rope" + (float) ropeTheta, String.valueOf(ropeScaling),
                "bias" + qkvBias);
    }
}
