package io.laai.edge;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

import com.fasterxml.jackson.databind.JsonNode;

import io.laai.LaaiConfig;
import io.laai.model.Generator;
import io.laai.model.SamplingParams;

/** POST /v1/generate: a completion with the requested interventions, snapshotted at the start. */
@Path("/v1/generate")
public class GenerateResource {

    @Inject
    RegistryService registry;

    @Inject
    GenerationService generation;

    @Inject
    LaaiConfig config;

    private static final Set<String> FIELDS = Set.of("prompt", "task", "interventions", "scale", "max_tokens",
            "temperature", "top_p", "seed", "stop");

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Generate a completion, applying a task's intervention or a composition of several")
    @APIResponse(responseCode = "200", description = "the completion")
    @APIResponse(responseCode = "400", description = "a malformed body or a limit exceeded", content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "a task is unknown", content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "429", description = "the server is at capacity; retry after Retry-After", content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "shutting down, or the request timed out", content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public CompletionStage<GenerateResponse> generate(@RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = GenerateRequest.class))) JsonNode json) {
        JsonBody body = JsonBody.of(json, "at least a prompt", FIELDS);
        LaaiConfig.Edge limits = config.edge();
        String prompt = RequestChecks.prompt(body.string("prompt"), limits);
        Integer requested = body.integer("max_tokens");
        int maxTokens = RequestChecks.maxTokens(requested == null ? Math.min(128, limits.maxTokens()) : requested, limits);
        RequestChecks.Snapshot snapshot = new RequestChecks.Snapshot(registry, limits);
        String task = body.string("task");
        Double scale = body.number("scale");
        if (task != null) {
            snapshot.add(task, scale == null ? 1.0 : scale);
        } else if (scale != null) {
            throw Problem.Failure.badRequest("scale applies to task, and no task is given");
        }
        snapshot.addAll(body.raw("interventions"), "interventions");
        Double temperature = body.number("temperature");
        Double topP = body.number("top_p");
        Long seed = body.integer64("seed");
        SamplingParams params = RequestChecks.sampling(maxTokens, temperature == null ? 0 : temperature,
                topP == null ? 1 : topP, seed == null ? 0 : seed, body.strings("stop", RequestChecks.MAX_STOPS));
        List<GenerateResponse.Applied> applied = snapshot.applied();
        CompletionStage<Generator.Result> running = generation.submit(new Generator.Request(prompt, params, snapshot.steering()));
        generation.countRequest(applied);
        return running.thenApply(r -> new GenerateResponse(r.text(), r.finishReason(), applied,
                        List.copyOf(new java.util.TreeSet<>(r.conditionsUnmet())),
                        new GenerateResponse.Usage(r.promptTokens(), r.completionTokens())));
    }
}
