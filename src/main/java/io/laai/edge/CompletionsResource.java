package io.laai.edge;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
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
import com.fasterxml.jackson.databind.node.TextNode;

import io.laai.LaaiConfig;
import io.laai.ModelService;
import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.PromptScorer;
import io.laai.model.SamplingParams;
import io.laai.model.TokenLogprob;
import io.smallrye.common.annotation.Blocking;

/**
 * OpenAI-compatible completions. {@code model} is "base", a task, or tasks joined with '+', each
 * optionally weighted ({@code little-dog*0.5+felt-sad}); the {@code laai} extension field adds
 * {@code interventions: [{task, scale}]}. Prompts may be a string, a list of strings, token ids or
 * lists of token ids; {@code echo} with {@code logprobs} and {@code max_tokens: 0} scores a prompt.
 * Answers carry, beside OpenAI's fields, the seed used and the intervention versions applied.
 */
@Path("/v1/completions")
public class CompletionsResource {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    RegistryService registry;

    @Inject
    GenerationService generation;

    @Inject
    ModelService models;

    @Inject
    LaaiConfig config;

    private static final Set<String> FIELDS = Set.of("model", "prompt", "max_tokens", "temperature", "top_p", "seed", "stop",
            "stream", "stream_options", "user", "n", "best_of", "echo", "logprobs", "presence_penalty", "frequency_penalty",
            "suffix", "logit_bias", "laai");

    /** Most prompts one request may hold. */
    static final int MAX_PROMPTS = 16;

    /** One prompt: its text, or its token ids. */
    private record Prompt(String text, int[] tokens) {
        String shown(LanguageModel lm) {
            return text != null ? text : lm.tokenizer().decode(tokens);
        }
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
    @Operation(operationId = "createCompletion",
            summary = "OpenAI-compatible text completion; model = 'base', a task, or weighted tasks joined with '+'")
    @APIResponse(responseCode = "200", description = "the completion, or server-sent events when stream is true", content = {
        @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.CompletionResponse.class)),
        @Content(mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(implementation = OpenAiSchemas.EventStream.class))})
    @APIResponse(responseCode = "400", description = "a malformed body or a limit exceeded", content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.ErrorResponse.class)))
    @APIResponse(responseCode = "404", description = "a task in model is unknown", content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.ErrorResponse.class)))
    @APIResponse(responseCode = "429", description = "the server is at capacity; retry after Retry-After", content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.ErrorResponse.class)))
    @APIResponse(responseCode = "503", description = "shutting down, or the request timed out", content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.ErrorResponse.class)))
    @Blocking
    public Response complete(@RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = OpenAiSchemas.CompletionRequest.class), examples = {
        @ExampleObject(name = "one task", value = "{\"model\": \"boy-named-max\", \"prompt\": \"The boy was named\", \"max_tokens\": 8}"),
        @ExampleObject(name = "weighted composition, streamed", value = "{\"model\": \"boy-named-max*0.5+big-blue\","
                + " \"prompt\": \"Once upon a time\", \"max_tokens\": 32, \"temperature\": 0.8, \"seed\": 7, \"stream\": true}"),
        @ExampleObject(name = "score a prompt", value = "{\"model\": \"base\", \"prompt\": \"Once upon a time\","
                + " \"max_tokens\": 0, \"echo\": true, \"logprobs\": 1}")})) JsonNode json) {
        JsonBody body = JsonBody.of(json, "model and prompt", FIELDS);
        LanguageModel lm = models.model();
        LaaiConfig.Edge limits = config.edge();
        OpenAiRequest req = new OpenAiRequest(body, registry, limits, lm.config().vocabSize());
        List<Prompt> prompts = prompts(body.raw("prompt"), limits);
        boolean echo = Boolean.TRUE.equals(body.bool("echo"));
        Integer lp = body.integer("logprobs");
        int logprobs = lp == null ? -1 : lp;
        if (logprobs < -1 || logprobs > SamplingParams.MAX_LOGPROBS) {
            throw Problem.Failure.badRequest("logprobs must be in [0, " + SamplingParams.MAX_LOGPROBS + "], was " + lp)
                    .param("logprobs");
        }
        String suffix = body.string("suffix");
        OpenAiRequest.unsupported("suffix", suffix != null && !suffix.isEmpty());
        Integer bestOf = body.integer("best_of");
        int best = bestOf == null ? req.n : bestOf;
        if (best < req.n || best > OpenAiRequest.MAX_CHOICES) {
            throw Problem.Failure.badRequest("best_of must be in [n, " + OpenAiRequest.MAX_CHOICES + "], was " + best)
                    .param("best_of");
        }
        if (prompts.size() * best > OpenAiRequest.MAX_CHOICES) {
            throw Problem.Failure.badRequest(prompts.size() + " prompts × " + best + " choices is more than "
                    + OpenAiRequest.MAX_CHOICES + " generations in one request").param("n");
        }
        Integer requested = body.integer("max_tokens");
        int maxTokens = requested == null ? 16 : requested;
        if (maxTokens == 0 && !echo) {
            throw Problem.Failure.badRequest("max_tokens 0 only scores the prompt, and needs echo: true").param("max_tokens");
        }
        if (maxTokens != 0) {
            RequestChecks.maxTokens(maxTokens, limits);
        }
        if (req.stream && (best > req.n || logprobs >= 0 || maxTokens == 0)) {
            throw Problem.Failure.badRequest("stream cannot be combined with best_of above n, logprobs or max_tokens 0")
                    .param("stream");
        }
        List<GenerateResponse.Applied> applied = req.snapshot.applied();
        List<Generator.Request> requests = new ArrayList<>();
        // best_of above n ranks choices by their log-probability, so those are kept even when not asked for.
        int kept = best > req.n ? Math.max(logprobs, 0) : logprobs;
        for (Prompt p : prompts) {
            for (int j = 0; j < best; j++) {
                SamplingParams params = req.params(Math.max(maxTokens, 1), j, kept, Set.of(), List.of());
                requests.add(new Generator.Request(p.text(), p.tokens(), params, req.snapshot.steering()));
            }
        }
        String id = "cmpl-" + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        if (req.stream) {
            return stream(req, lm, prompts, requests, echo, id, created, applied);
        }
        List<List<TokenLogprob>> promptLogprobs = new ArrayList<>();
        List<int[]> promptIds = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            Generator.Request first = requests.get(p * best);
            promptIds.add(PromptScorer.promptIds(lm, first));
            promptLogprobs.add(echo && logprobs >= 0 ? PromptScorer.score(lm, first, logprobs, limits.prefillChunk()) : null);
        }
        List<CompletableFuture<Generator.Result>> running = maxTokens == 0 ? List.of()
                : OpenAiEvents.submitAll(generation, requests, null);
        generation.countRequest(applied);
        List<Generator.Result> results = OpenAiEvents.join(running);
        ObjectNode out = req.head(id, created, applied, "text_completion");
        var choices = out.putArray("choices");
        int promptTokens = 0;
        int completionTokens = 0;
        for (int p = 0; p < prompts.size(); p++) {
            int[] ids = promptIds.get(p);
            promptTokens += ids.length;
            List<Generator.Result> mine = maxTokens == 0 ? null : new ArrayList<>(results.subList(p * best, (p + 1) * best));
            if (mine != null) {
                completionTokens += mine.stream().mapToInt(Generator.Result::completionTokens).sum();
                if (best > req.n) {
                    mine.sort(Comparator.comparingDouble(CompletionsResource::logprob).reversed());
                }
            }
            for (int j = 0; j < req.n; j++) {
                Generator.Result r = mine == null ? null : mine.get(j);
                ObjectNode c = choices.addObject();
                c.put("text", (echo ? prompts.get(p).shown(lm) : "") + (r == null ? "" : r.text()));
                c.put("index", p * req.n + j);
                if (logprobs < 0) {
                    c.putNull("logprobs");
                } else {
                    OpenAiLogprobs.Completion l = new OpenAiLogprobs.Completion();
                    if (echo) {
                        l.add(lm.tokenizer(), -1, ids, promptLogprobs.get(p));
                    }
                    if (r != null) {
                        l.add(lm.tokenizer(), ids[ids.length - 1], r.tokens(), trimmed(r.logprobs(), logprobs));
                    }
                    c.set("logprobs", l.node());
                }
                c.put("finish_reason", r == null ? "length" : r.finishReason());
                if (r != null) {
                    OpenAiRequest.conditions(c, applied, r);
                }
            }
        }
        usage(out, promptTokens, completionTokens);
        return Response.ok(out.toString(), MediaType.APPLICATION_JSON).build();
    }

    private Response stream(OpenAiRequest req, LanguageModel lm, List<Prompt> prompts, List<Generator.Request> requests,
            boolean echo, String id, long created, List<GenerateResponse.Applied> applied) {
        OpenAiEvents.Stream events = new OpenAiEvents.Stream();
        List<Consumer<String>> listeners = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            int index = i;
            listeners.add(delta -> events.send(chunk(id, created, req, index, delta, null, null)));
        }
        if (echo) {
            for (int i = 0; i < requests.size(); i++) {
                events.send(chunk(id, created, req, i, prompts.get(i / req.n).shown(lm), null, null));
            }
        }
        List<CompletableFuture<Generator.Result>> running = OpenAiEvents.submitAll(generation, requests, listeners);
        generation.countRequest(applied);
        events.finish(running, results -> {
            List<Object> last = new ArrayList<>();
            for (int i = 0; i < results.size(); i++) {
                last.add(chunk(id, created, req, i, "", results.get(i), applied));
            }
            if (req.includeUsage) {
                ObjectNode u = req.head(id, created, applied, "text_completion");
                u.putArray("choices");
                usage(u, results.stream().mapToInt(Generator.Result::promptTokens).sum() / req.n,
                        results.stream().mapToInt(Generator.Result::completionTokens).sum());
                last.add(u.toString());
            }
            return last;
        });
        return events.response(running);
    }

    private static double logprob(Generator.Result r) {
        return r.logprobs().stream().mapToDouble(TokenLogprob::logprob).sum();
    }

    /** The alternatives the client asked for (best_of may have kept log-probabilities it did not ask for). */
    private static List<TokenLogprob> trimmed(List<TokenLogprob> lps, int top) {
        return lps.stream().map(l -> l.topTokens().length <= top ? l : new TokenLogprob(l.token(), l.logprob(),
                java.util.Arrays.copyOf(l.topTokens(), top), java.util.Arrays.copyOf(l.topLogprobs(), top))).toList();
    }

    private static List<Prompt> prompts(JsonNode v, LaaiConfig.Edge limits) {
        if (v == null) {
            throw Problem.Failure.badRequest("prompt is required: a string, a list of strings, token ids or lists of"
                    + " token ids").param("prompt");
        }
        List<Prompt> out = new ArrayList<>();
        if (v.isTextual()) {
            out.add(new Prompt(RequestChecks.prompt(v.asText(), limits), null));
        } else if (v.isArray() && v.size() > 0 && v.get(0).isIntegralNumber()) {
            out.add(new Prompt(null, tokens(v, "prompt", limits)));
        } else if (v.isArray() && v.size() > 0) {
            if (v.size() > MAX_PROMPTS) {
                throw Problem.Failure.badRequest("prompt has " + v.size() + " entries; at most " + MAX_PROMPTS
                        + " are allowed").param("prompt");
            }
            for (int i = 0; i < v.size(); i++) {
                JsonNode e = v.get(i);
                if (e.isTextual()) {
                    out.add(new Prompt(RequestChecks.prompt(e.asText(), limits), null));
                } else if (e.isArray()) {
                    out.add(new Prompt(null, tokens(e, "prompt[" + i + "]", limits)));
                } else {
                    throw JsonBody.wrongType("prompt[" + i + "]", "a string or a list of token ids", e);
                }
            }
        } else {
            throw JsonBody.wrongType("prompt", "a string, a non-empty list of strings, token ids or lists of token ids", v);
        }
        return out;
    }

    private static int[] tokens(JsonNode v, String field, LaaiConfig.Edge limits) {
        if (v.size() == 0) {
            throw Problem.Failure.badRequest(field + " is an empty list of token ids").param("prompt");
        }
        if (v.size() > limits.maxPromptChars()) {
            throw Problem.Failure.badRequest(field + " has " + v.size() + " tokens; the limit is " + limits.maxPromptChars()
                    + " (laai.edge.max-prompt-chars)").param("prompt");
        }
        int[] ids = new int[v.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                throw JsonBody.wrongType(field + "[" + i + "]", "a token id", e);
            }
            ids[i] = e.asInt();
        }
        return ids;
    }

    private static String chunk(String id, long created, OpenAiRequest req, int index, String text, Generator.Result done,
            List<GenerateResponse.Applied> applied) {
        return req.chunk(id, created, applied, "text_completion", index, "text", TextNode.valueOf(text), done);
    }

    static void usage(ObjectNode n, int prompt, int completion) {
        n.putObject("usage").put("prompt_tokens", prompt).put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
    }
}
