package io.laai.model;

/** Sampling defaults a checkpoint ships in generation_config.json; null fields mean "not given". */
public record GenerationDefaults(Double temperature, Double topP, Integer maxNewTokens) {
    public static final GenerationDefaults NONE = new GenerationDefaults(null, null, null);
}
