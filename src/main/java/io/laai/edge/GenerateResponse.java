package io.laai.edge;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Answer of POST /v1/generate: the completion only, and the intervention versions it used. */
public record GenerateResponse(String text, @JsonProperty("finish_reason") String finishReason,
        List<Applied> interventions, Usage usage) {

    public record Applied(String task, long version, double scale) {
    }

    public record Usage(@JsonProperty("prompt_tokens") int promptTokens,
            @JsonProperty("completion_tokens") int completionTokens) {
    }
}
