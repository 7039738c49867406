package io.laai.model;

import java.util.Map;

/**
 * What a loader hands the runtime: config, weights in Hugging Face names and runtime layout (in
 * the file's precision), tokenizer.json, and the chat template with the special tokens it names
 * (null where the model ships none).
 */
public record LoadedModel(String id, ModelConfig config, Map<String, ? extends Weight> weights, String tokenizerJson,
        GenerationDefaults generationDefaults, Chat chat) {

    /** bosToken/eosToken are null where the tokenizer's ids name them. */
    public record Chat(String template, String bosToken, String eosToken) {
        public static final Chat NONE = new Chat(null, null, null);
    }
}
