package io.laai.edge;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Body of POST /v1/generate. */
@Schema(example = "{\"prompt\": \"The boy was named\", \"task\": \"boy-named-max\", \"max_tokens\": 16}")
public record GenerateRequest(
        @Schema(required = true) String prompt,
        @Schema(description = "one task's intervention; see scale") String task,
        @Schema(description = "several tasks composed as Σ scale·Δ") List<Weighted> interventions,
        @Schema(description = "scale of task's intervention", defaultValue = "1") Double scale,
        @JsonProperty("max_tokens") @Schema(defaultValue = "128") Integer maxTokens,
        @Schema(defaultValue = "0", description = "0 is greedy") Double temperature,
        @JsonProperty("top_p") @Schema(defaultValue = "1") Double topP,
        @Schema(defaultValue = "0") Long seed,
        List<String> stop) {

    /** A task and its weight in a composition. */
    public record Weighted(String task, Double scale) {
    }
}
