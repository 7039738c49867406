package io.laai.edge;

import java.util.List;
import java.util.concurrent.CompletionStage;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;

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

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Generate a completion, applying a task's intervention or a composition of several")
    public CompletionStage<GenerateResponse> generate(GenerateRequest body) {
        if (body == null) {
            throw Problem.Failure.badRequest("the body must be a JSON object with at least a prompt");
        }
        LaaiConfig.Edge limits = config.edge();
        String prompt = RequestChecks.prompt(body.prompt(), limits);
        int maxTokens = RequestChecks.maxTokens(body.maxTokens() == null ? Math.min(128, limits.maxTokens())
                : body.maxTokens(), limits);
        RequestChecks.Snapshot snapshot = new RequestChecks.Snapshot(registry, limits);
        if (body.task() != null) {
            snapshot.add(body.task(), body.scale() == null ? 1.0 : body.scale());
        } else if (body.scale() != null) {
            throw Problem.Failure.badRequest("scale applies to task, and no task is given");
        }
        if (body.interventions() != null) {
            for (GenerateRequest.Weighted w : body.interventions()) {
                if (w == null || w.task() == null) {
                    throw Problem.Failure.badRequest("every entry of interventions needs a task");
                }
                snapshot.add(w.task(), w.scale() == null ? 1.0 : w.scale());
            }
        }
        SamplingParams params = new SamplingParams(maxTokens, body.temperature() == null ? 0 : body.temperature(),
                body.topP() == null ? 1 : body.topP(), body.seed() == null ? 0 : body.seed(), body.stop(), false);
        List<GenerateResponse.Applied> applied = snapshot.applied();
        return generation.submit(new Generator.Request(prompt, params, snapshot.steering()))
                .thenApply(r -> new GenerateResponse(r.text(), r.finishReason(), applied,
                        new GenerateResponse.Usage(r.promptTokens(), r.completionTokens())));
    }
}
