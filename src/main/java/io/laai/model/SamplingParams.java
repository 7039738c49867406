package io.laai.model;

import java.util.List;
import java.util.Map;

/**
 * How one request samples: temperature 0 is greedy; top-p keeps the smallest set of tokens whose
 * probability reaches p; the seed makes sampling repeatable whatever else shares the batch;
 * ignoreEos generates exactly maxTokens (benchmarks, soak tests). Penalties and logit bias follow
 * OpenAI: presence subtracts once from every token generated so far, frequency once per time it
 * was generated, and a bias is added to a token's logit before sampling. logprobs is how many top
 * alternatives to report per generated token (-1: no log-probabilities at all). stopTokens end
 * generation like the model's EOS (a chat template's end-of-turn token).
 */
public record SamplingParams(int maxTokens, double temperature, double topP, long seed, List<String> stop,
        boolean ignoreEos, double presencePenalty, double frequencyPenalty, Map<Integer, Double> logitBias,
        int logprobs, java.util.Set<Integer> stopTokens) {

    /** The most alternatives per token a request may ask for (vLLM's default limit). */
    public static final int MAX_LOGPROBS = 20;

    public SamplingParams {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max_tokens must be at least 1, was " + maxTokens);
        }
        if (!(temperature >= 0) || temperature > 100) {
            throw new IllegalArgumentException("temperature must be in [0, 100], was " + temperature);
        }
        if (!(topP > 0) || topP > 1) {
            throw new IllegalArgumentException("top_p must be in (0, 1], was " + topP);
        }
        if (!(Math.abs(presencePenalty) <= 2)) {
            throw new IllegalArgumentException("presence_penalty must be in [-2, 2], was " + presencePenalty);
        }
        if (!(Math.abs(frequencyPenalty) <= 2)) {
            throw new IllegalArgumentException("frequency_penalty must be in [-2, 2], was " + frequencyPenalty);
        }
        if (logprobs < -1 || logprobs > MAX_LOGPROBS) {
            throw new IllegalArgumentException("logprobs must be in [0, " + MAX_LOGPROBS + "], was " + logprobs);
        }
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        stopTokens = stopTokens == null ? java.util.Set.of() : java.util.Set.copyOf(stopTokens);
        for (Map.Entry<Integer, Double> e : logitBias.entrySet()) {
            if (!(Math.abs(e.getValue()) <= 100)) {
                throw new IllegalArgumentException("logit_bias for token " + e.getKey() + " must be in [-100, 100], was "
                        + e.getValue());
            }
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    public SamplingParams(int maxTokens, double temperature, double topP, long seed, List<String> stop, boolean ignoreEos) {
        this(maxTokens, temperature, topP, seed, stop, ignoreEos, 0, 0, Map.of(), -1, java.util.Set.of());
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(maxTokens, 0, 1, 0, List.of(), false);
    }

    public SamplingParams withIgnoreEos(boolean ignore) {
        return new SamplingParams(maxTokens, temperature, topP, seed, stop, ignore, presencePenalty, frequencyPenalty,
                logitBias, logprobs, stopTokens);
    }

    public SamplingParams withSeed(long seed) {
        return new SamplingParams(maxTokens, temperature, topP, seed, stop, ignoreEos, presencePenalty, frequencyPenalty,
                logitBias, logprobs, stopTokens);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    /** True when the next token is the argmax of the raw logits, so the device can pick it. */
    boolean isPlainGreedy() {
        return isGreedy() && presencePenalty == 0 && frequencyPenalty == 0 && logitBias.isEmpty() && logprobs < 0;
    }
}
