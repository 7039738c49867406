package io.laai.edge;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.LaaiConfig;
import io.laai.model.Generator;
import io.laai.model.SamplingParams;
import io.smallrye.common.annotation.Blocking;

/**
 * OpenAI-compatible completions. {@code model} names a task, several joined with '+' (each at
 * weight 1), or "base". With {@code stream: true} the answer is server-sent events, ending with
 * {@code data: [DONE]}. Answers carry, beside OpenAI's fields, the intervention versions used.
 */
@Path("/v1/completions")
public class CompletionsResource {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    RegistryService registry;

    @Inject
    GenerationService generation;

    @Inject
    LaaiConfig config;

    /** OpenAI's completion fields; those LAAI does not implement are accepted only at their neutral value. */
    private static final Set<String> FIELDS = Set.of("model", "prompt", "max_tokens", "temperature", "top_p", "seed", "stop",
            "stream", "stream_options", "user", "n", "best_of", "echo", "logprobs", "presence_penalty", "frequency_penalty",
            "suffix", "logit_bias");

    /** Refuses an OpenAI parameter at a value that would change the answer, since LAAI does not implement it. */
    private static void neutral(JsonBody body) {
        Integer n = body.integer("n");
        Integer bestOf = body.integer("best_of");
        Integer logprobs = body.integer("logprobs");
        Double presence = body.number("presence_penalty");
        Double frequency = body.number("frequency_penalty");
        String suffix = body.string("suffix");
        Boolean echo = body.bool("echo");
        String user = body.string("user");
        unsupported("n", n != null && n != 1);
        unsupported("best_of", bestOf != null && bestOf != 1);
        unsupported("logprobs", logprobs != null && logprobs != 0);
        unsupported("presence_penalty", presence != null && presence != 0);
        unsupported("frequency_penalty", frequency != null && frequency != 0);
        unsupported("suffix", suffix != null && !suffix.isEmpty());
        unsupported("echo", echo != null && echo);
        unsupported("logit_bias", body.has("logit_bias"));
        if (body.has("stream_options")) {
            JsonBody o = JsonBody.of(body.raw("stream_options"), "stream_options is {include_usage}", Set.of("include_usage"));
            o.bool("include_usage"); // usage is always in the last chunk
        }
        if (user != null && user.length() > 256) {
            throw Problem.Failure.badRequest("user has " + user.length() + " characters; the limit is 256");
        }
    }

    private static void unsupported(String field, boolean set) {
        if (set) {
            throw Problem.Failure.badRequest(field + " is not supported by this server; leave it out or at its default");
        }
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
    @Operation(summary = "OpenAI-compatible text completion; model = a task, tasks joined with '+', or 'base'")
    @APIResponse(responseCode = "200", description = "the completion, or server-sent events when stream is true")
    @APIResponse(responseCode = "400", description = "a malformed body or a limit exceeded (problem+json)")
    @APIResponse(responseCode = "404", description = "a task in model is unknown (problem+json)")
    @Blocking
    public Response complete(@RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, examples = {
        @ExampleObject(name = "one task", value = "{\"model\": \"boy-named-max\", \"prompt\": \"The boy was named\", \"max_tokens\": 8}"),
        @ExampleObject(name = "composed, streamed", value = "{\"model\": \"boy-named-max+big-blue\", \"prompt\": \"Once upon a time\","
                + " \"max_tokens\": 32, \"temperature\": 0.8, \"seed\": 7, \"stream\": true}")})) JsonNode json) {
        JsonBody body = JsonBody.of(json, "model and prompt", FIELDS);
        String model = body.string("model");
        if (model == null || model.isEmpty()) {
            throw Problem.Failure.badRequest("model is required: a task id, tasks joined with '+', or 'base'");
        }
        neutral(body);
        LaaiConfig.Edge limits = config.edge();
        String prompt = RequestChecks.prompt(body.string("prompt"), limits);
        Integer requested = body.integer("max_tokens");
        int maxTokens = RequestChecks.maxTokens(requested == null ? 16 : requested, limits);
        List<String> stop = body.strings("stop", RequestChecks.MAX_STOPS);
        RequestChecks.Snapshot snapshot = new RequestChecks.Snapshot(registry, limits);
        if (!model.equals("base")) {
            for (String task : model.split("\\+", -1)) {
                snapshot.add(task, 1.0);
            }
        }
        List<GenerateResponse.Applied> applied = snapshot.applied();
        Double temperature = body.number("temperature");
        Double topP = body.number("top_p");
        Long seed = body.integer64("seed");
        SamplingParams params = RequestChecks.sampling(maxTokens, temperature == null ? 1.0 : temperature,
                topP == null ? 1.0 : topP, seed == null ? 0 : seed, stop);
        Boolean stream = body.bool("stream");
        Generator.Request request = new Generator.Request(prompt, params, snapshot.steering());
        String id = "cmpl-" + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        if (Boolean.TRUE.equals(stream)) {
            BlockingQueue<String> events = new LinkedBlockingQueue<>();
            CompletableFuture<Generator.Result> running = generation.submit(request,
                    delta -> events.add(chunk(id, created, model, delta, null, null, null)));
            running.whenComplete((r, e) -> {
                if (e == null) {
                    events.add(chunk(id, created, model, "", r.finishReason(), applied, r));
                } else {
                    events.add(JSON.createObjectNode().put("error", String.valueOf(e.getMessage())).toString());
                }
                events.add("[DONE]");
            });
            StreamingOutput sse = out -> {
                try {
                    for (String e = take(events); ; e = take(events)) {
                        out.write(("data: " + e + "\n\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        if (e.equals("[DONE]")) {
                            return;
                        }
                    }
                } catch (IOException | RuntimeException gone) {
                    running.cancel(false); // the client went away: free its row
                    throw gone;
                }
            };
            return Response.ok(sse, MediaType.SERVER_SENT_EVENTS).header("Cache-Control", "no-cache").build();
        }
        try {
            Generator.Result r = generation.submit(request).join();
            return Response.ok(chunk(id, created, model, r.text(), r.finishReason(), applied, r), MediaType.APPLICATION_JSON)
                    .build();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }

    private static String take(BlockingQueue<String> events) throws IOException {
        try {
            return events.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while streaming", e);
        }
    }

    private static String chunk(String id, long created, String model, String text, String finish,
            List<GenerateResponse.Applied> applied, Generator.Result usage) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", id);
        n.put("object", "text_completion");
        n.put("created", created);
        n.put("model", model);
        ObjectNode choice = n.putArray("choices").addObject();
        choice.put("text", text);
        choice.put("index", 0);
        choice.putNull("logprobs");
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        if (applied != null) {
            n.set("interventions", JSON.valueToTree(applied));
        }
        if (usage != null) {
            n.putObject("usage").put("prompt_tokens", usage.promptTokens()).put("completion_tokens", usage.completionTokens())
                    .put("total_tokens", usage.promptTokens() + usage.completionTokens());
        }
        return n.toString();
    }
}
