package io.laai.edge;

import java.util.Map;

import java.util.List;
import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
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

import io.laai.LaaiConfig;
import io.laai.ModelService;
import io.laai.kafka.KafkaPublisher;
import io.laai.kafka.Topics;
import io.laai.contract.DemonstrationBatch;
import io.laai.contract.IngestRules;
import io.smallrye.common.annotation.Blocking;

/** HTTP ingest: a demonstration batch for a task, validated and produced to laai.demonstrations. */
@Path("/v1/tasks/{task}/demonstrations")
public class DemonstrationsResource {

    @Inject
    KafkaPublisher publisher;

    @Inject
    ModelService models;

    @Inject
    LaaiConfig config;

    /** The batch as the OpenAPI document describes it; {@link DemonstrationBatch#parse} reads it strictly. */
    @Schema(name = "DemonstrationBatch", description = "demonstrations of one task; unknown fields are a 400")
    record BatchBody(@Schema(required = true) List<DemonstrationBody> demonstrations,
            @Schema(enumeration = {"append", "replace"}, description = "append (default) or replace the task's window") String mode,
            @JsonProperty("model_fingerprint") @Schema(description = "refused (409) unless it is the served model's")
            String modelFingerprint,
            @Schema(description = "training settings as strings, e.g. steps, site, positions") Map<String, String> config,
            @JsonProperty("allow_unvalidated") Boolean allowUnvalidated,
            @Schema(description = "the task in the path when left out") String task) {
    }

    @Schema(name = "Demonstration")
    record DemonstrationBody(@Schema(required = true) String prompt, @Schema(required = true) String completion) {
    }

    @POST
    @Blocking
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Produce a demonstration batch for the task to laai.demonstrations; 202 with where it landed")
    @APIResponse(responseCode = "202", description = "acknowledged by Kafka: {topic, partition, offset}")
    @APIResponse(responseCode = "400", description = "an invalid batch; detail names the field",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "model_fingerprint names another model",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "413", description = "over laai.trainer.max-batch-bytes, or a demonstration whose training "
            + "needs more than laai.trainer.memory-budget",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Kafka did not acknowledge the batch; retry",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response ingest(@PathParam("task") String task, @RequestBody(required = true, content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = BatchBody.class), examples = {
                @ExampleObject(name = "append", value = "{\"demonstrations\": [{\"prompt\": \"The boy was named\", \"completion\": \" Max\"},"
                        + " {\"prompt\": \"One day, a little boy named\", \"completion\": \" Max\"}]}"),
                @ExampleObject(name = "replace, with settings", value = "{\"demonstrations\": [{\"prompt\": \"The sky was\","
                        + " \"completion\": \" blue\"}], \"mode\": \"replace\", \"config\": {\"steps\": \"100\", \"site\": \"residual\"}}")}))
            JsonNode body) {
        DemonstrationBatch.Limits limits = IngestRules.limits(config.trainer());
        DemonstrationBatch batch = DemonstrationBatch.parse(body, task, limits);
        if (batch.modelFingerprint() != null && !batch.modelFingerprint().equals(models.model().fingerprint())) {
            throw new Problem.Failure(409, "Conflict", "model_fingerprint " + batch.modelFingerprint()
                    + " is not the served model's " + models.model().fingerprint());
        }
        // The same checks as the trainer's consumer: untrainable → 400, oversize → 413 (ProblemMappers).
        batch.requireTrainable(models.model(), IngestRules.trainDefaults(config),
                IngestRules.memoryBudget(config.trainer(), models.model()));
        byte[] value = batch.toJson();
        if (value.length > limits.maxBytes()) {
            throw new Problem.Failure(413, "Content Too Large", "the batch is " + value.length
                    + " bytes as JSON; laai.trainer.max-batch-bytes is " + limits.maxBytes());
        }
        KafkaPublisher.Placement at = publisher.send(Topics.DEMONSTRATIONS, batch.task(), value,
                Map.of("content-type", MediaType.APPLICATION_JSON));
        return Response.accepted(at).build();
    }
}
