package io.laai.edge;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;

import io.laai.LaaiConfig;
import io.laai.intervention.Composition;
import io.laai.intervention.Intervention;
import io.laai.model.Generator;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;

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
        if (body.prompt() == null) {
            throw Problem.Failure.badRequest("prompt is required");
        }
        if (body.prompt().length() > limits.maxPromptChars()) {
            throw Problem.Failure.badRequest("prompt has " + body.prompt().length() + " characters; the limit is "
                    + limits.maxPromptChars() + " (laai.edge.max-prompt-chars)");
        }
        int maxTokens = body.maxTokens() == null ? Math.min(128, limits.maxTokens()) : body.maxTokens();
        if (maxTokens < 1 || maxTokens > limits.maxTokens()) {
            throw Problem.Failure.badRequest("max_tokens must be in [1, " + limits.maxTokens() + "], was " + maxTokens
                    + " (laai.edge.max-tokens)");
        }
        Map<Intervention, Double> weighted = new LinkedHashMap<>();
        List<GenerateResponse.Applied> applied = new ArrayList<>();
        if (body.task() != null) {
            add(body.task(), body.scale() == null ? 1.0 : body.scale(), weighted, applied);
        } else if (body.scale() != null) {
            throw Problem.Failure.badRequest("scale applies to task, and no task is given");
        }
        if (body.interventions() != null) {
            for (GenerateRequest.Weighted w : body.interventions()) {
                if (w == null || w.task() == null) {
                    throw Problem.Failure.badRequest("every entry of interventions needs a task");
                }
                add(w.task(), w.scale() == null ? 1.0 : w.scale(), weighted, applied);
            }
        }
        SamplingParams params = new SamplingParams(maxTokens, body.temperature() == null ? 0 : body.temperature(),
                body.topP() == null ? 1 : body.topP(), body.seed() == null ? 0 : body.seed(), body.stop(), false);
        Steering steering = weighted.isEmpty() ? Steering.NONE : Composition.of(weighted);
        return generation.submit(new Generator.Request(body.prompt(), params, steering))
                .thenApply(r -> new GenerateResponse(r.text(), r.finishReason(), applied,
                        new GenerateResponse.Usage(r.promptTokens(), r.completionTokens())));
    }

    private void add(String task, double scale, Map<Intervention, Double> weighted, List<GenerateResponse.Applied> applied) {
        if (!Double.isFinite(scale) || Math.abs(scale) > config.edge().maxScale()) {
            throw Problem.Failure.badRequest("scale " + scale + " for task '" + task + "' is outside [-"
                    + config.edge().maxScale() + ", " + config.edge().maxScale() + "] (laai.edge.max-scale)");
        }
        Intervention iv = registry.get(task).orElseThrow(() -> Problem.Failure.notFound("no intervention for task '" + task + "'"));
        if (weighted.containsKey(iv)) {
            throw Problem.Failure.badRequest("task '" + task + "' is named twice");
        }
        weighted.put(iv, scale);
        applied.add(new GenerateResponse.Applied(task, iv.version(), scale));
    }
}
