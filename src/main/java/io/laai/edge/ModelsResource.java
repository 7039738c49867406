package io.laai.edge;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import io.laai.ModelService;
import io.laai.intervention.Intervention;

/**
 * OpenAI's model list: "base" (the loaded model) and every task the edge can apply, each with
 * "base" as its parent and its version, the way vLLM lists LoRA adapters beside their base model.
 */
@Path("/v1/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelsResource {

    /** When this process started serving: base's "created". */
    private static final long STARTED = Instant.now().getEpochSecond();

    @Inject
    RegistryService registry;

    @Inject
    ModelService models;

    @GET
    @Operation(operationId = "listModels", summary = "'base' and every servable task, as OpenAI model objects")
    @APIResponse(responseCode = "200", description = "the models", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = OpenAiSchemas.ModelList.class)))
    @APIResponse(responseCode = "401", description = "laai.edge.api-keys is set and the bearer key is missing or wrong",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.ErrorResponse.class)))
    public Map<String, Object> list() {
        List<Map<String, Object>> data = new ArrayList<>();
        data.add(base());
        new TreeMap<>(registry.all()).values().forEach(iv -> data.add(task(iv)));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "list");
        out.put("data", data);
        return out;
    }

    @GET
    @Path("/{id}")
    @Operation(operationId = "retrieveModel", summary = "One model object: 'base' or a task")
    @APIResponse(responseCode = "200", description = "the model", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = OpenAiSchemas.Model.class)))
    @APIResponse(responseCode = "404", description = "no such model", content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OpenAiSchemas.ErrorResponse.class)))
    public Map<String, Object> get(@PathParam("id") String id) {
        if (id.equals("base")) {
            return base();
        }
        return registry.get(id).map(this::task).orElseThrow(() -> Problem.Failure.notFound(
                "the model '" + id + "' does not exist: it is neither 'base' nor a task with a published intervention")
                .param("model"));
    }

    private Map<String, Object> base() {
        Map<String, Object> m = model("base", STARTED);
        m.put("root", models.model().id());
        m.put("parent", null);
        m.put("max_model_len", models.model().config().maxPositionEmbeddings());
        return m;
    }

    private Map<String, Object> task(Intervention iv) {
        Map<String, Object> m = taskOf(iv);
        m.put("root", models.model().id());
        return m;
    }

    private static Map<String, Object> taskOf(Intervention iv) {
        long created = STARTED;
        String at = iv.metadata().get("created_at");
        if (at != null) {
            try {
                created = Instant.parse(at).getEpochSecond();
            } catch (java.time.format.DateTimeParseException ignored) {
                // an artifact written by hand may carry any text; base's time stands in
            }
        }
        Map<String, Object> m = model(iv.task(), created);
        m.put("parent", "base");
        m.put("version", iv.version());
        return m;
    }

    private static Map<String, Object> model(String id, long created) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "laai");
        return m;
    }
}
