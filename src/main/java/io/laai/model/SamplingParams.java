package io.laai.model;

import java.util.List;

/**
 * How one request samples: temperature 0 is greedy; top-p keeps the smallest set of tokens whose
 * probability reaches p; the seed makes sampling repeatable whatever else shares the batch;
 * ignoreEos generates exactly maxTokens (benchmarks, soak tests).
 */
public record SamplingParams(int maxTokens, double temperature, double topP, long seed, List<String> stop,
        boolean ignoreEos) {

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
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(maxTokens, 0, 1, 0, List.of(), false);
    }

    public SamplingParams withIgnoreEos(boolean ignore) {
        return new SamplingParams(maxTokens, temperature, topP, seed, stop, ignore);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }
}
