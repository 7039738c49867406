package io.laai.edge;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Answer of POST /v1/generate: the completion only, the intervention versions it asked for, and
 * the conditional ones whose condition did not hold for the prompt (left out).
 */
public record GenerateResponse(String text, @JsonProperty("finish_reason") String finishReason,
        List<Applied> interventions, @JsonProperty("conditions_unmet") List<String> conditionsUnmet, Usage usage) {

    public record Applied(String task, long version, double scale) {
    }

    public record Usage(@JsonProperty("prompt_tokens") int promptTokens,
            @JsonProperty("completion_tokens") int completionTokens) {
    }
}
