package io.laai.model;

import java.util.Map;

/** What a loader hands the runtime: config, weights in Hugging Face names and runtime layout, tokenizer.json. */
public record LoadedModel(String id, ModelConfig config, Map<String, HostTensor> weights, String tokenizerJson,
        GenerationDefaults generationDefaults) {
}
