package io.laai.dashboard;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.LaaiConfig;
import io.laai.ModelService;
import io.laai.contract.TaskId;
import io.laai.contract.TrainingEvents;
import io.laai.edge.GenerationService;
import io.laai.edge.InterventionRegistry;
import io.laai.edge.InterventionRegistry.Norms;
import io.laai.edge.InterventionsResource;
import io.laai.edge.Problem;
import io.laai.edge.RegistryService;
import io.laai.edge.TrainingStatus;
import io.laai.intervention.Intervention;
import io.laai.model.LanguageModel;
import io.smallrye.health.SmallRyeHealthReporter;

/**
 * What the dashboard at / shows, as JSON: every task with its version and training history, one
 * task's events and where its Δ acts (this version and the one before), the service's health and
 * load, and a server-sent stream of training events. Behind the same API keys as the rest of /v1.
 */
@Path("/v1/dashboard")
@Produces(MediaType.APPLICATION_JSON)
public class DashboardResource {

    /** Outcomes listed per task in the overview; the detail has every event kept. */
    static final int OUTCOMES_LISTED = 10;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> OUTCOMES = List.of(TrainingEvents.PUBLISHED, TrainingEvents.REJECTED,
            TrainingEvents.FAILED, TrainingEvents.DELETED);

    @Inject
    RegistryService registry;

    @Inject
    ModelService models;

    @Inject
    GenerationService generation;

    @Inject
    EventStreams streams;

    @Inject
    SmallRyeHealthReporter health;

    @Inject
    LaaiConfig config;

    private final Throughput throughput = new Throughput();

    /** One task as the overview lists it: status is training, published, rejected, failed or deleted. */
    public record TaskView(String task, String status, InterventionsResource.Summary current, JsonNode latest,
            List<JsonNode> outcomes) {
    }

    /**
     * One task in full: its recent events (oldest first) and where Δ acts (the norm of each layer's
     * Δ and, at attn_heads, of each head's slice) in this version and the one before.
     */
    public record TaskDetail(String task, String status, InterventionsResource.Summary current, List<JsonNode> events,
            Norms norms, Norms previousNorms) {
    }

    @GET
    @Path("/tasks")
    @Operation(summary = "Every task the edge serves or has seen training events of, with its status and recent outcomes")
    @APIResponse(responseCode = "200", description = "{tasks: [{task, status, current, latest, outcomes}]}, by task")
    @APIResponse(responseCode = "401", description = "laai.edge.api-keys is set and the bearer key is missing or wrong",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Map<String, List<TaskView>> dashboardTasks() {
        TreeSet<String> names = new TreeSet<>(registry.all().keySet());
        registry.trainingStatus().ifPresent(s -> names.addAll(s.tasks()));
        List<TaskView> out = new ArrayList<>();
        for (String task : names) {
            Optional<Intervention> current = registry.get(task);
            List<JsonNode> history = history(task);
            List<JsonNode> outcomes = new ArrayList<>();
            for (int i = history.size() - 1; i >= 0 && outcomes.size() < OUTCOMES_LISTED; i--) {
                if (OUTCOMES.contains(history.get(i).path("event").asText())) {
                    outcomes.add(withoutNorms(history.get(i)));
                }
            }
            JsonNode latest = history.isEmpty() ? null : withoutNorms(history.get(history.size() - 1));
            out.add(new TaskView(task, status(current, latest), current.map(InterventionsResource.Summary::of).orElse(null),
                    latest, outcomes));
        }
        return Map.of("tasks", out);
    }

    @GET
    @Path("/tasks/{task}")
    @Operation(summary = "One task: its recent training events (progress with loss, outcomes) and where its Δ acts now and before")
    @APIResponse(responseCode = "200", description = "{task, status, current, events, norms, previousNorms}")
    @APIResponse(responseCode = "400", description = "the task id is not valid",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "401", description = "laai.edge.api-keys is set and the bearer key is missing or wrong",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "the edge neither serves the task nor has seen events of it",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public TaskDetail dashboardTask(@PathParam("task") String task) {
        String bad = TaskId.problem(task);
        if (bad != null) {
            throw new Problem.Failure(400, "Bad Request", bad);
        }
        Optional<Intervention> current = registry.get(task);
        List<JsonNode> history = history(task);
        if (current.isEmpty() && history.isEmpty()) {
            throw new Problem.Failure(404, "Not Found", "no task '" + task
                    + "': the edge holds no version of it and has seen no training event for it");
        }
        List<JsonNode> events = history.stream().map(DashboardResource::withoutNorms).toList();
        Norms now = current.map(Norms::of).orElse(null);
        return new TaskDetail(task, status(current, events.isEmpty() ? null : events.get(events.size() - 1)),
                current.map(InterventionsResource.Summary::of).orElse(null), events, now, previous(task, now, history));
    }

    @GET
    @Path("/events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(summary = "Server-sent events: each training event (queued, started, progress, published, rejected, failed, "
            + "deleted) as the edge reads it from laai.training-events, as `event: training`; a comment every 15 s")
    @APIResponse(responseCode = "200", description = "the event stream", content = @Content(
            mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(type = SchemaType.STRING)))
    @APIResponse(responseCode = "400", description = "the task id is not valid",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "401", description = "laai.edge.api-keys is set and the bearer key is missing or wrong",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "this role does not follow laai.training-events",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "429", description = "too many event streams are open",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public void followTrainingEvents(@QueryParam("task") String task, @Context SseEventSink sink, @Context Sse sse) {
        if (task != null) {
            String bad = TaskId.problem(task);
            if (bad != null) {
                throw new Problem.Failure(400, "Bad Request", "task: " + bad);
            }
        }
        streams.open(sink, sse, task);
    }

    @GET
    @Path("/health")
    @Operation(summary = "The model, readiness of each part (model, Kafka, registry, trainer), registry lag and edge load")
    @APIResponse(responseCode = "200", description = "{role, model, ready, checks, registry, edge}")
    @APIResponse(responseCode = "401", description = "laai.edge.api-keys is set and the bearer key is missing or wrong",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Map<String, Object> dashboardHealth() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("role", config.role());
        out.put("model", model());
        try {
            JsonNode ready = JSON.readTree(health.getReadiness().getPayload().toString());
            out.put("ready", "UP".equals(ready.path("status").asText()));
            out.put("checks", ready.path("checks"));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        Map<String, Object> reg = new LinkedHashMap<>();
        Optional<InterventionRegistry> r = registry.registry();
        reg.put("tasks", registry.all().size());
        reg.put("caught_up", r.map(InterventionRegistry::caughtUp).orElse(false));
        reg.put("lag", r.map(InterventionRegistry::lag).orElse(-1L));
        reg.put("rejected", r.map(InterventionRegistry::rejectedCount).orElse(0L));
        reg.put("training_events_caught_up", registry.trainingStatus().map(TrainingStatus::caughtUp).orElse(false));
        reg.put("event_streams", streams.size());
        out.put("registry", reg);
        out.put("edge", generation.load().map(l -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("running", l.running());
            e.put("waiting", l.waiting());
            e.put("prompt_tokens", l.promptTokens());
            e.put("generated_tokens", l.generatedTokens());
            e.put("tokens_per_second", throughput.rate(System.nanoTime(), l.generatedTokens()));
            return e;
        }).orElse(null));
        return out;
    }

    private Map<String, Object> model() {
        Map<String, Object> m = new LinkedHashMap<>();
        LanguageModel lm;
        try {
            lm = models.model();
        } catch (IllegalStateException loading) {
            m.put("loaded", false);
            return m;
        }
        var c = lm.config();
        m.put("loaded", true);
        m.put("id", lm.id());
        m.put("family", c.family().name().toLowerCase(java.util.Locale.ROOT));
        m.put("layers", c.numHiddenLayers());
        m.put("heads", c.numAttentionHeads());
        m.put("hidden_size", c.hiddenSize());
        m.put("vocab_size", c.vocabSize());
        m.put("max_model_len", c.maxPositionEmbeddings());
        m.put("fingerprint", lm.fingerprint());
        m.put("engine", ModelService.weights(lm));
        return m;
    }

    private List<JsonNode> history(String task) {
        return registry.trainingStatus().map(s -> s.history(task)).orElse(List.of());
    }

    /** What the task is doing: its newest event says, unless there is none and only a version. */
    static String status(Optional<Intervention> current, JsonNode latest) {
        if (latest == null) {
            return current.isPresent() ? TrainingEvents.PUBLISHED : "unknown";
        }
        String type = latest.path("event").asText();
        return TrainingEvents.training(type) ? "training" : type;
    }

    /**
     * The version before the current one: as the registry saw it replaced, else from its published
     * event (after a restart the compacted topic may hold only the newest version).
     */
    private Norms previous(String task, Norms now, List<JsonNode> history) {
        if (now == null) {
            return null;
        }
        Optional<Norms> seen = registry.registry().flatMap(r -> r.previous(task));
        if (seen.isPresent()) {
            return seen.get();
        }
        for (int i = history.size() - 1; i >= 0; i--) {
            JsonNode e = history.get(i);
            if (TrainingEvents.PUBLISHED.equals(e.path("event").asText()) && e.path("version").asLong() < now.version()
                    && e.has("layer_norms")) {
                return fromEvent(e);
            }
        }
        return null;
    }

    static Norms fromEvent(JsonNode e) {
        Map<Integer, Double> layers = new java.util.TreeMap<>();
        e.path("layer_norms").fields().forEachRemaining(f -> layers.put(Integer.parseInt(f.getKey()), f.getValue().asDouble()));
        Map<Integer, double[]> heads = new java.util.TreeMap<>();
        e.path("head_norms").fields().forEachRemaining(f -> {
            double[] h = new double[f.getValue().size()];
            for (int i = 0; i < h.length; i++) {
                h[i] = f.getValue().get(i).asDouble();
            }
            heads.put(Integer.parseInt(f.getKey()), h);
        });
        return new Norms(e.path("version").asLong(), e.path("site").asText(), layers, heads);
    }

    /** Events as lists show them: the norms (layers × heads numbers) are served apart. */
    private static JsonNode withoutNorms(JsonNode e) {
        if (!e.has("layer_norms") && !e.has("head_norms")) {
            return e;
        }
        ObjectNode copy = e.deepCopy();
        copy.remove("layer_norms");
        copy.remove("head_norms");
        return copy;
    }
}
