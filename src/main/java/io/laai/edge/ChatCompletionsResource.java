package io.laai.edge;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.LaaiConfig;
import io.laai.ModelService;
import io.laai.chat.ChatMessages;
import io.laai.chat.ChatTemplate;
import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.SamplingParams;
import io.smallrye.common.annotation.Blocking;

/**
 * OpenAI-compatible chat completions: the messages are rendered with the model's chat template
 * (the model's own, or laai.chat-template) with the generation prompt, and the answer stops at the template's
 * end-of-turn token. model and the laai extension steer the assistant's turn as in completions.
 */
@Path("/v1/chat/completions")
public class ChatCompletionsResource {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    RegistryService registry;

    @Inject
    GenerationService generation;

    @Inject
    ModelService models;

    @Inject
    LaaiConfig config;

    private static final Set<String> FIELDS = Set.of("model", "messages", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "seed", "stop", "stream", "stream_options", "user", "n", "logprobs", "top_logprobs",
            "presence_penalty", "frequency_penalty", "logit_bias", "tools", "tool_choice", "functions", "function_call",
            "parallel_tool_calls", "response_format", "modalities", "store", "metadata", "service_tier", "laai");

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
    @Operation(operationId = "createChatCompletion",
            summary = "OpenAI-compatible chat completion with the model's chat template; model as in completions")
    @APIResponse(responseCode = "200", description = "the assistant's answer, or server-sent events when stream is true",
            content = {@Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = OpenAiSchemas.ChatResponse.class)),
                @Content(mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(implementation = OpenAiSchemas.EventStream.class))})
    @APIResponse(responseCode = "400", description = "a malformed body, a limit exceeded, a template that refuses the"
            + " conversation, or a model without a chat template", content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.ErrorResponse.class)))
    @APIResponse(responseCode = "404", description = "a task in model is unknown", content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.ErrorResponse.class)))
    @APIResponse(responseCode = "429", description = "the server is at capacity; retry after Retry-After", content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.ErrorResponse.class)))
    @APIResponse(responseCode = "503", description = "shutting down, or the request timed out", content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.ErrorResponse.class)))
    @Blocking
    public Response chat(@RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = OpenAiSchemas.ChatRequest.class), examples = {
        @ExampleObject(name = "steered chat", value = "{\"model\": \"felt-sad*0.8\", \"messages\": [{\"role\": \"user\","
                + " \"content\": \"Tell me about your day.\"}], \"max_tokens\": 32}")})) JsonNode json) {
        JsonBody body = JsonBody.of(json, "model and messages", FIELDS);
        LanguageModel lm = models.model();
        LaaiConfig.Edge limits = config.edge();
        OpenAiRequest req = new OpenAiRequest(body, registry, limits, lm.config().vocabSize());
        neutral(body);
        List<Map<String, Object>> messages;
        try {
            messages = ChatMessages.parse(body.raw("messages"), "messages", limits.maxPromptChars());
        } catch (IllegalArgumentException e) {
            throw Problem.Failure.badRequest(e.getMessage()).param("messages");
        }
        boolean logprobs = Boolean.TRUE.equals(body.bool("logprobs"));
        Integer top = body.integer("top_logprobs");
        if (top != null && (top < 0 || top > SamplingParams.MAX_LOGPROBS)) {
            throw Problem.Failure.badRequest("top_logprobs must be in [0, " + SamplingParams.MAX_LOGPROBS + "], was " + top)
                    .param("top_logprobs");
        }
        if (top != null && !logprobs) {
            throw Problem.Failure.badRequest("top_logprobs needs logprobs: true").param("top_logprobs");
        }
        if (req.stream && logprobs) {
            throw Problem.Failure.badRequest("logprobs cannot be streamed by this server").param("logprobs");
        }
        Integer limit = body.integer("max_completion_tokens");
        String limitField = "max_completion_tokens";
        if (limit == null) {
            limit = body.integer("max_tokens");
            limitField = "max_tokens";
        }
        int maxTokens;
        try {
            maxTokens = RequestChecks.maxTokens(limit == null ? limits.maxTokens() : limit, limits);
        } catch (Problem.Failure f) {
            throw f.param(limitField);
        }
        ChatTemplate template = lm.chat().orElseThrow(() -> Problem.Failure.badRequest("the model '" + lm.id()
                + "' has no chat template; set laai.chat-template to a Jinja2 template file, or use /v1/completions")
                .param("messages"));
        String prompt;
        try {
            prompt = template.render(messages, true);
        } catch (ChatTemplate.TemplateException e) {
            throw Problem.Failure.badRequest("the chat template refused the conversation: " + e.getMessage())
                    .param("messages");
        }
        if (prompt.length() > limits.maxPromptChars()) {
            throw Problem.Failure.badRequest("the conversation renders to " + prompt.length() + " characters; the limit is "
                    + limits.maxPromptChars() + " (laai.edge.max-prompt-chars)").param("messages");
        }
        int[] ids = lm.encodeRendered(prompt);
        Set<Integer> stopTokens = new HashSet<>();
        List<String> stopTexts = new ArrayList<>();
        for (String end : template.endOfTurn()) {
            int[] t = lm.tokenizer().encode(end, false);
            if (t.length == 1) {
                stopTokens.add(t[0]);
            } else {
                stopTexts.add(end);
            }
        }
        List<Generator.Request> requests = new ArrayList<>();
        for (int j = 0; j < req.n; j++) {
            requests.add(new Generator.Request(prompt, ids, req.params(maxTokens, j, logprobs ? (top == null ? 0 : top) : -1,
                    stopTokens, stopTexts), req.snapshot.steering()));
        }
        List<GenerateResponse.Applied> applied = req.snapshot.applied();
        String id = "chatcmpl-" + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        if (req.stream) {
            OpenAiEvents.Stream events = new OpenAiEvents.Stream();
            List<Consumer<String>> listeners = new ArrayList<>();
            for (int j = 0; j < req.n; j++) {
                int index = j;
                listeners.add(delta -> events.send(chunk(id, created, req, index, JSON.createObjectNode().put("content", delta),
                        null, null)));
            }
            for (int j = 0; j < req.n; j++) {
                events.send(chunk(id, created, req, j, JSON.createObjectNode().put("role", "assistant").put("content", ""),
                        null, null));
            }
            List<CompletableFuture<Generator.Result>> running = OpenAiEvents.submitAll(generation, requests, listeners);
            generation.countRequest(applied);
            events.finish(running, results -> {
                List<Object> last = new ArrayList<>();
                for (int j = 0; j < results.size(); j++) {
                    last.add(chunk(id, created, req, j, JSON.createObjectNode(), results.get(j), applied));
                }
                if (req.includeUsage) {
                    ObjectNode u = req.head(id, created, applied, "chat.completion.chunk");
                    u.putArray("choices");
                    CompletionsResource.usage(u, ids.length, results.stream().mapToInt(Generator.Result::completionTokens).sum());
                    last.add(u.toString());
                }
                return last;
            });
            return events.response(running);
        }
        List<CompletableFuture<Generator.Result>> running = OpenAiEvents.submitAll(generation, requests, null);
        generation.countRequest(applied);
        List<Generator.Result> results = OpenAiEvents.join(running);
        ObjectNode out = req.head(id, created, applied, "chat.completion");
        var choices = out.putArray("choices");
        for (int j = 0; j < results.size(); j++) {
            Generator.Result r = results.get(j);
            ObjectNode c = choices.addObject();
            c.put("index", j);
            c.putObject("message").put("role", "assistant").put("content", r.text()).putNull("refusal");
            if (logprobs) {
                c.set("logprobs", OpenAiLogprobs.chat(lm.tokenizer(), ids[ids.length - 1], r.tokens(), r.logprobs()));
            } else {
                c.putNull("logprobs");
            }
            c.put("finish_reason", r.finishReason());
            OpenAiRequest.conditions(c, applied, r);
        }
        CompletionsResource.usage(out, ids.length, results.stream().mapToInt(Generator.Result::completionTokens).sum());
        return Response.ok(out.toString(), MediaType.APPLICATION_JSON).build();
    }

    /** Fields of OpenAI's chat API this server takes only at the value that changes nothing. */
    private static void neutral(JsonBody body) {
        JsonNode tools = body.array("tools");
        OpenAiRequest.unsupported("tools", tools != null && tools.size() > 0);
        JsonNode functions = body.array("functions");
        OpenAiRequest.unsupported("functions", functions != null && functions.size() > 0);
        for (String field : List.of("tool_choice", "function_call")) {
            JsonNode choice = body.raw(field);
            OpenAiRequest.unsupported(field, choice != null && !(choice.isTextual()
                    && (choice.asText().equals("none") || choice.asText().equals("auto"))));
        }
        body.bool("parallel_tool_calls");
        JsonNode format = body.raw("response_format");
        OpenAiRequest.unsupported("response_format", format != null && !(format.isObject()
                && format.size() == 1 && "text".equals(format.path("type").asText())));
        JsonNode modalities = body.array("modalities");
        OpenAiRequest.unsupported("modalities", modalities != null && !(modalities.size() == 1
                && "text".equals(modalities.get(0).asText())));
        OpenAiRequest.unsupported("store", Boolean.TRUE.equals(body.bool("store")));
        JsonNode metadata = body.raw("metadata");
        if (metadata != null && !metadata.isObject()) {
            throw JsonBody.wrongType("metadata", "an object", metadata);
        }
        String tier = body.string("service_tier");
        OpenAiRequest.unsupported("service_tier", tier != null && !tier.equals("auto") && !tier.equals("default"));
    }

    private static String chunk(String id, long created, OpenAiRequest req, int index, ObjectNode delta, Generator.Result done,
            List<GenerateResponse.Applied> applied) {
        return req.chunk(id, created, applied, "chat.completion.chunk", index, "delta", delta, done);
    }
}
