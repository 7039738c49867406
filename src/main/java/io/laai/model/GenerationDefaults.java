package io.laai.model;

/**
 * Sampling defaults a checkpoint ships in generation_config.json; null fields mean "not given".
 * A config with do_sample=false is greedy whatever temperature it also names, as in transformers.
 */
public record GenerationDefaults(Double temperature, Double topP, Integer maxNewTokens) {
    public static final GenerationDefaults NONE = new GenerationDefaults(null, null, null);

    /** Request values win; then the checkpoint's; then greedy, top-p 1, 256 tokens. */
    public SamplingParams resolve(Integer maxTokens, Double requestTemperature, Double requestTopP, long seed,
            java.util.List<String> stop) {
        return new SamplingParams(first(maxTokens, maxNewTokens, 256), first(requestTemperature, temperature, 0.0),
                first(requestTopP, topP, 1.0), seed, stop, false);
    }

    private static <T> T first(T a, T b, T c) {
        return a != null ? a : b != null ? b : c;
    }
}
