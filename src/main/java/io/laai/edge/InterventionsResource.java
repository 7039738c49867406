package io.laai.edge;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jakarta.inject.Inject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

import io.laai.intervention.Artifacts;
import io.laai.intervention.ControlVectors;
import io.laai.intervention.Intervention;
import io.laai.kafka.KafkaPublisher;
import io.laai.kafka.Topics;
import io.smallrye.common.annotation.Blocking;

/** The interventions the edge holds: tasks, versions, metrics and per-layer norms. */
@Path("/v1/interventions")
@Produces(MediaType.APPLICATION_JSON)
public class InterventionsResource {

    @Inject
    RegistryService registry;

    @Inject
    KafkaPublisher publisher;

    /** One task's intervention as the API shows it; condition is null for one that applies to every prompt. */
    public record Summary(String task, long version, String site, String positions, List<Integer> layers,
            Map<Integer, Double> layerNorms, Map<Integer, double[]> headNorms, Map<String, String> metadata,
            ConditionSummary condition) {

        public static Summary of(Intervention iv) {
            return new Summary(iv.task(), iv.version(), iv.site().id(), iv.positions().id(),
                    new ArrayList<>(iv.deltas().keySet()), iv.layerNorms(), iv.headNorms(), iv.metadata(),
                    iv.condition() == null ? null : new ConditionSummary(iv.condition().layer(), iv.condition().threshold()));
        }
    }

    /** Where a conditional intervention reads the prompt's state, and the cosine similarity it needs. */
    public record ConditionSummary(int layer, double threshold) {
    }

    @GET
    @Operation(summary = "Every task the edge can apply, with its current version")
    @APIResponse(responseCode = "200", description = "{interventions: [...]}, by task")
    @APIResponse(responseCode = "401", description = "laai.edge.api-keys is set and the bearer key is missing or wrong",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Map<String, List<Summary>> list() {
        List<Summary> out = new ArrayList<>();
        new TreeMap<>(registry.all()).values().forEach(iv -> out.add(Summary.of(iv)));
        Map<String, List<Summary>> body = new LinkedHashMap<>();
        body.put("interventions", out);
        return body;
    }

    @GET
    @Path("/{task}")
    @Operation(summary = "One task's intervention: version, metrics, per-layer and per-head norms")
    @APIResponse(responseCode = "200", description = "the intervention")
    @APIResponse(responseCode = "404", description = "no intervention for the task (training_status tells whether one is training)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Summary get(@PathParam("task") String task) {
        return Summary.of(find(task));
    }

    @GET
    @Path("/{task}/artifact")
    @Produces(Artifacts.CONTENT_TYPE)
    @Operation(summary = "The task's artifact (safetensors)")
    @APIResponse(responseCode = "200", description = "the safetensors file", content = @Content(mediaType = Artifacts.CONTENT_TYPE,
            schema = @Schema(type = SchemaType.STRING, format = "binary")))
    @APIResponse(responseCode = "404", description = "no intervention for the task (training_status tells whether one is training)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response artifact(@PathParam("task") String task) {
        Intervention iv = find(task);
        return download(iv, Artifacts.encode(iv), Artifacts.CONTENT_TYPE, "safetensors");
    }

    @GET
    @Path("/{task}/control-vector.gguf")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    @Operation(summary = "The task's intervention as a llama.cpp control vector (residual site, all positions only)")
    @APIResponse(responseCode = "200", description = "the GGUF control vector", content = @Content(
            mediaType = MediaType.APPLICATION_OCTET_STREAM, schema = @Schema(type = SchemaType.STRING, format = "binary")))
    @APIResponse(responseCode = "404", description = "no intervention for the task (training_status tells whether one is training)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "the intervention is not a residual, all-positions one",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response controlVector(@PathParam("task") String task) {
        Intervention iv = find(task);
        byte[] gguf;
        try {
            gguf = ControlVectors.encode(iv);
        } catch (IllegalArgumentException e) {
            throw new Problem.Failure(409, "Conflict", e.getMessage());
        }
        return download(iv, gguf, MediaType.APPLICATION_OCTET_STREAM, "gguf");
    }

    private static Response download(Intervention iv, byte[] bytes, String type, String extension) {
        return Response.ok(bytes, type).header("laai-version", iv.version()).header("Content-Disposition",
                "attachment; filename=\"" + iv.task() + "-v" + iv.version() + "." + extension + "\"").build();
    }

    @DELETE
    @Path("/{task}")
    @Blocking
    @Operation(summary = "Delete the task: a tombstone on laai.demonstrations (the trainer clears the task's window, in "
            + "order with its batches, and deletes again any version a training in flight publishes) and one on "
            + "laai.interventions (every edge stops serving it now); 202 with where the latter landed")
    @APIResponse(responseCode = "202", description = "both tombstones are acknowledged: {topic, partition, offset} of the second")
    @APIResponse(responseCode = "404", description = "no intervention for the task (training_status tells whether one is training)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Kafka did not acknowledge the tombstones; retry",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response delete(@PathParam("task") String task) {
        find(task);
        publisher.send(Topics.DEMONSTRATIONS, task, null, Map.of());
        return Response.accepted(publisher.send(Topics.INTERVENTIONS, task, null, Map.of())).build();
    }

    /** The task's intervention; a task with none yet says whether it is training, and at which step. */
    private Intervention find(String task) {
        return registry.get(task).orElseThrow(() -> registry.training(task)
                .map(e -> {
                    Map<String, Object> more = TrainingStatus.describe(e);
                    String detail = "training".equals(more.get("training_status"))
                            ? "task '" + task + "' has no version yet: it is training" + (e.has("step")
                                    ? " (step " + e.get("step").asInt() + ")" : " (" + e.path("event").asText() + ")")
                            : "task '" + task + "' has no version: its last candidate was " + e.path("event").asText()
                                    + (e.has("reason") ? " (" + e.get("reason").asText() + ")" : "");
                    return new Problem.Failure(404, "Not Found", detail, more);
                })
                .orElseGet(() -> Problem.Failure.notFound("no intervention for task '" + task + "'")));
    }
}
