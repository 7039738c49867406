package io.laai.edge;

import java.util.List;
import java.util.Map;

import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The OpenAI-compatible bodies as the OpenAPI document describes them. The endpoints read their
 * bodies strictly with {@link JsonBody}; these types only document the same fields.
 */
final class OpenAiSchemas {

    private OpenAiSchemas() {
    }

    @Schema(name = "InterventionWeight", description = "a task's intervention and its scale")
    record Weight(@Schema(required = true, example = "little-dog") String task,
            @Schema(description = "1 when left out; within laai.edge.max-scale", example = "0.5") Double scale) {
    }

    @Schema(name = "LaaiExtension", description = "LAAI's steering, beside model's grammar (as vLLM takes extra_body)")
    record Laai(List<Weight> interventions) {
    }

    @Schema(name = "StreamOptions")
    record StreamOptions(@JsonProperty("include_usage") Boolean includeUsage) {
    }

    @Schema(name = "CompletionRequest", description = "OpenAI's completions request; unknown fields are a 400")
    record CompletionRequest(
            @Schema(required = true, description = "'base', a task, or tasks joined with '+', each optionally task*scale",
                    example = "little-dog*0.5+felt-sad") String model,
            @Schema(required = true, description = "a string, a list of strings, token ids, or lists of token ids",
                    oneOf = {String.class, String[].class, int[].class, int[][].class}) Object prompt,
            @JsonProperty("max_tokens") @Schema(description = "16 when left out; 0 scores the prompt (with echo)",
                    minimum = "0") Integer maxTokens,
            @Schema(minimum = "0", maximum = "2") Double temperature,
            @JsonProperty("top_p") @Schema(minimum = "0", exclusiveMinimum = true, maximum = "1") Double topP,
            @Schema(description = "a fresh random seed when left out; the response says which") Long seed,
            @Schema(oneOf = {String.class, String[].class}) Object stop,
            Boolean stream,
            @JsonProperty("stream_options") StreamOptions streamOptions,
            @Schema(minimum = "1", maximum = "16") Integer n,
            @JsonProperty("best_of") @Schema(minimum = "1", maximum = "16") Integer bestOf,
            Boolean echo,
            @Schema(minimum = "0", maximum = "20", description = "top alternatives per token") Integer logprobs,
            @JsonProperty("presence_penalty") @Schema(minimum = "-2", maximum = "2") Double presencePenalty,
            @JsonProperty("frequency_penalty") @Schema(minimum = "-2", maximum = "2") Double frequencyPenalty,
            @JsonProperty("logit_bias") @Schema(description = "token id to a bias in [-100, 100]") Map<String, Double> logitBias,
            @Schema(description = "not supported: only empty") String suffix,
            String user,
            Laai laai) {
    }

    @Schema(name = "ChatMessage")
    record Message(@Schema(required = true, enumeration = {"system", "developer", "user", "assistant", "tool"}) String role,
            @Schema(description = "a string, or content parts of type text", oneOf = {String.class, TextPart[].class})
            Object content,
            String name) {
    }

    @Schema(name = "TextPart")
    record TextPart(@Schema(required = true, enumeration = "text") String type, @Schema(required = true) String text) {
    }

    @Schema(name = "ChatCompletionRequest", description = "OpenAI's chat request; unknown fields are a 400, tools are not"
            + " supported")
    record ChatRequest(
            @Schema(required = true, description = "as in CompletionRequest", example = "felt-sad") String model,
            @Schema(required = true) List<Message> messages,
            @JsonProperty("max_completion_tokens") @Schema(minimum = "1") Integer maxCompletionTokens,
            @JsonProperty("max_tokens") @Schema(minimum = "1", deprecated = true) Integer maxTokens,
            @Schema(minimum = "0", maximum = "2") Double temperature,
            @JsonProperty("top_p") @Schema(minimum = "0", exclusiveMinimum = true, maximum = "1") Double topP,
            Long seed,
            @Schema(oneOf = {String.class, String[].class}) Object stop,
            Boolean stream,
            @JsonProperty("stream_options") StreamOptions streamOptions,
            @Schema(minimum = "1", maximum = "16") Integer n,
            Boolean logprobs,
            @JsonProperty("top_logprobs") @Schema(minimum = "0", maximum = "20") Integer topLogprobs,
            @JsonProperty("presence_penalty") @Schema(minimum = "-2", maximum = "2") Double presencePenalty,
            @JsonProperty("frequency_penalty") @Schema(minimum = "-2", maximum = "2") Double frequencyPenalty,
            @JsonProperty("logit_bias") Map<String, Double> logitBias,
            String user,
            Laai laai) {
    }

    @Schema(name = "Usage")
    record Usage(@JsonProperty("prompt_tokens") int promptTokens, @JsonProperty("completion_tokens") int completionTokens,
            @JsonProperty("total_tokens") int totalTokens) {
    }

    @Schema(name = "CompletionChoice")
    record CompletionChoice(String text, int index, @Schema(nullable = true) Map<String, Object> logprobs,
            @JsonProperty("finish_reason") @Schema(enumeration = {"stop", "length"}) String finishReason,
            @JsonProperty("conditions_unmet") @Schema(description = "steered requests only: the conditional tasks whose "
                    + "condition did not hold for this choice's prompt, or held less than another task's, so their Δ was"
                    + " left out") List<String> conditionsUnmet) {
    }

    @Schema(name = "CompletionResponse", description = "OpenAI's completion, with the seed used and the interventions applied")
    record CompletionResponse(String id, @Schema(enumeration = "text_completion") String object, long created, String model,
            long seed, List<GenerateResponse.Applied> interventions, List<CompletionChoice> choices, Usage usage) {
    }

    @Schema(name = "AssistantMessage")
    record AssistantMessage(@Schema(enumeration = "assistant") String role, String content) {
    }

    @Schema(name = "ChatChoice")
    record ChatChoice(int index, AssistantMessage message, @Schema(nullable = true) Map<String, Object> logprobs,
            @JsonProperty("finish_reason") @Schema(enumeration = {"stop", "length"}) String finishReason,
            @JsonProperty("conditions_unmet") @Schema(description = "steered requests only: the conditional tasks whose "
                    + "condition did not hold for this choice's prompt, or held less than another task's, so their Δ was"
                    + " left out") List<String> conditionsUnmet) {
    }

    @Schema(name = "ChatCompletionResponse")
    record ChatResponse(String id, @Schema(enumeration = "chat.completion") String object, long created, String model,
            long seed, List<GenerateResponse.Applied> interventions, List<ChatChoice> choices, Usage usage) {
    }

    @Schema(name = "Model", description = "'base', or a task whose parent is base")
    record Model(String id, @Schema(enumeration = "model") String object, long created,
            @JsonProperty("owned_by") String ownedBy, String root, @Schema(nullable = true) String parent,
            @Schema(description = "tasks only") Long version) {
    }

    @Schema(name = "ModelList")
    record ModelList(@Schema(enumeration = "list") String object, List<Model> data) {
    }

    @Schema(name = "OpenAiError")
    record Error(@Schema(required = true) String message, @Schema(required = true) String type,
            @Schema(nullable = true) String param, @Schema(nullable = true) String code) {
    }

    @Schema(name = "OpenAiErrorResponse", description = "OpenAI's error object, on the OpenAI-compatible endpoints")
    record ErrorResponse(@Schema(required = true) Error error) {
    }

    /** The text/event-stream body: "data: {chunk}" events ending with "data: [DONE]". */
    @Schema(name = "EventStream", type = SchemaType.STRING, description = "server-sent events: data: {chunk} … data: [DONE]")
    static final class EventStream {
    }
}
