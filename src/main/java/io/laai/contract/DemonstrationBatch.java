package io.laai.contract;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.model.LanguageModel;
import io.laai.train.Demonstration;
import io.laai.train.TaskFile;
import io.laai.train.TrainConfig;
import io.laai.train.Trainer;

/**
 * A demonstration batch as README defines it (the value on laai.demonstrations), validated by
 * the same code wherever it enters (HTTP ingest, the trainer's consumer): task id, demonstrations,
 * mode, fingerprint, config overrides, and the configured size limits.
 */
public record DemonstrationBatch(String task, List<Demonstration> demonstrations, String mode, String modelFingerprint,
        Map<String, String> config, boolean allowUnvalidated) {

    /** The fields of a batch; anything else is refused, so a misspelt field is never silently dropped. */
    static final java.util.Set<String> FIELDS = java.util.Set.of("task", "demonstrations", "mode", "model_fingerprint",
            "config", "allow_unvalidated");

    public DemonstrationBatch(String task, List<Demonstration> demonstrations, String mode, String modelFingerprint,
            Map<String, String> config) {
        this(task, demonstrations, mode, modelFingerprint, config, false);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Size limits a batch must respect, and the most steps and patience its config may ask for (laai.trainer.max-*). */
    public record Limits(int maxDemonstrations, int maxFieldChars, int maxBytes, int maxSteps, int maxPatience) {
        public static final Limits DEFAULTS = new Limits(256, 4000, 1_000_000, 1000, 200);

        public Limits {
            if (maxDemonstrations < 1 || maxFieldChars < 1 || maxBytes < 1 || maxSteps < 1 || maxPatience < 1) {
                throw new IllegalArgumentException("batch limits must be positive: " + maxDemonstrations + ", "
                        + maxFieldChars + ", " + maxBytes + ", " + maxSteps + ", " + maxPatience);
            }
        }

        public Limits(int maxDemonstrations, int maxFieldChars, int maxBytes) {
            this(maxDemonstrations, maxFieldChars, maxBytes, 1000, 200);
        }
    }

    /**
     * Why a batch was refused: {@code code} is a stable, machine-readable name (the DLQ's laai-error
     * header), the message a sentence for people (laai-error-detail).
     */
    public static final class Invalid extends IllegalArgumentException {
        public static final String INVALID_JSON = "invalid-json";
        public static final String INVALID_BATCH = "invalid-batch";
        public static final String OVERSIZE = "oversize";
        public static final String KEY_MISMATCH = "key-mismatch";
        public static final String FINGERPRINT_MISMATCH = "fingerprint-mismatch";
        public static final String UNTRAINABLE = "untrainable";

        private final String code;

        public Invalid(String code, String detail) {
            super(detail);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /** Parses a record value; the record key must name the batch's task (a missing "task" takes the key). */
    public static DemonstrationBatch parse(String key, byte[] value, Limits limits) {
        if (value == null) {
            throw new Invalid(Invalid.INVALID_BATCH, "the record has no value");
        }
        if (value.length > limits.maxBytes()) {
            throw new Invalid(Invalid.OVERSIZE, "the batch is " + value.length + " bytes; the limit is " + limits.maxBytes());
        }
        if (key == null) {
            throw new Invalid(Invalid.KEY_MISMATCH, "the record has no key; the key must be the task id");
        }
        JsonNode node;
        try {
            node = JSON.readTree(value);
        } catch (IOException e) {
            throw new Invalid(Invalid.INVALID_JSON, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (node != null && node.hasNonNull("task") && !node.get("task").asText().equals(key)) {
            throw new Invalid(Invalid.KEY_MISMATCH, "task '" + node.get("task").asText() + "' differs from the record key '"
                    + key + "'");
        }
        return parse(node, key, limits);
    }

    /** Parses and validates; every problem names the field. pathTask, when given, must agree with "task". */
    public static DemonstrationBatch parse(JsonNode node, String pathTask, Limits limits) {
        if (node == null || !node.isObject()) {
            throw new Invalid(Invalid.INVALID_BATCH, "a demonstration batch must be a JSON object");
        }
        java.util.Set<String> unknown = new java.util.TreeSet<>();
        node.fieldNames().forEachRemaining(f -> {
            if (!FIELDS.contains(f)) {
                unknown.add(f.length() > 40 ? f.substring(0, 40) + "…" : f);
            }
        });
        if (!unknown.isEmpty()) {
            throw new Invalid(Invalid.INVALID_BATCH, "unknown field(s) " + unknown + "; a batch has "
                    + new java.util.TreeSet<>(FIELDS));
        }
        if (node.hasNonNull("task") && !node.get("task").isTextual()) {
            throw new Invalid(Invalid.INVALID_BATCH, "task must be a string");
        }
        String task = node.hasNonNull("task") ? node.get("task").asText() : pathTask;
        if (pathTask != null && !pathTask.equals(task)) {
            throw new Invalid(Invalid.KEY_MISMATCH, "task '" + task + "' in the body differs from '" + pathTask + "' in the path");
        }
        if (TaskId.problem(task) != null) {
            throw new Invalid(Invalid.INVALID_BATCH, TaskId.problem(task));
        }
        JsonNode demos = node.get("demonstrations");
        if (demos == null || !demos.isArray() || demos.isEmpty()) {
            throw new Invalid(Invalid.INVALID_BATCH,
                    "demonstrations must be a non-empty array of {prompt, completion} or {messages, completion}");
        }
        if (demos.size() > limits.maxDemonstrations()) {
            throw new Invalid(Invalid.OVERSIZE, "demonstrations has " + demos.size() + " entries; the limit is "
                    + limits.maxDemonstrations());
        }
        List<Demonstration> list;
        try {
            list = TaskFile.demos(demos, "demonstrations");
        } catch (IllegalArgumentException e) {
            throw new Invalid(Invalid.INVALID_BATCH, e.getMessage());
        }
        for (int i = 0; i < list.size(); i++) {
            Demonstration d = list.get(i);
            int promptChars = d.isChat() ? d.messages().stream().mapToInt(m -> String.valueOf(m.get("content")).length())
                    .max().orElse(0) : d.prompt().length();
            if (promptChars > limits.maxFieldChars() || d.completion().length() > limits.maxFieldChars()) {
                throw new Invalid(Invalid.OVERSIZE, "demonstrations[" + i + "] has a field over " + limits.maxFieldChars()
                        + " characters");
            }
        }
        for (String f : List.of("mode", "model_fingerprint")) {
            if (node.hasNonNull(f) && !node.get(f).isTextual()) {
                throw new Invalid(Invalid.INVALID_BATCH, f + " must be a string");
            }
        }
        if (node.hasNonNull("allow_unvalidated") && !node.get("allow_unvalidated").isBoolean()) {
            throw new Invalid(Invalid.INVALID_BATCH, "allow_unvalidated must be true or false");
        }
        boolean allowUnvalidated = node.path("allow_unvalidated").asBoolean(false);
        String mode = node.path("mode").asText("append");
        if (!mode.equals("append") && !mode.equals("replace")) {
            throw new Invalid(Invalid.INVALID_BATCH, "mode '" + mode + "' is not append or replace");
        }
        Map<String, String> config = new LinkedHashMap<>();
        JsonNode cfg = node.get("config");
        if (cfg != null && !cfg.isNull()) {
            if (!cfg.isObject()) {
                throw new Invalid(Invalid.INVALID_BATCH, "config must be an object of training settings");
            }
            for (var it = cfg.fields(); it.hasNext();) {
                var e = it.next();
                if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                    throw new Invalid(Invalid.INVALID_BATCH, "config." + e.getKey() + " must be a string, number or boolean");
                }
                config.put(e.getKey(), e.getValue().asText());
            }
            try {
                // Refuses unknown, malformed and over-the-limit settings now, not at training time.
                TrainConfig.DEFAULTS.with(config).within(limits.maxSteps(), limits.maxPatience());
            } catch (IllegalArgumentException e) {
                throw new Invalid(Invalid.INVALID_BATCH, "config: " + e.getMessage());
            }
        }
        String fingerprint = node.hasNonNull("model_fingerprint") ? node.get("model_fingerprint").asText() : null;
        return new DemonstrationBatch(task, list, mode, fingerprint, config, allowUnvalidated);
    }

    /**
     * Refuses a batch this trainer cannot train: settings that do not fit the model (a layer it
     * lacks) or demonstrations too long for its context are untrainable; a demonstration whose
     * training alone needs more than {@code memoryBudget} bytes is oversize.
     */
    public void requireTrainable(LanguageModel lm, TrainConfig defaults, long memoryBudget) {
        try {
            defaults.with(config).layerList(lm.config().numHiddenLayers());
            Trainer.requireTrainable(lm, demonstrations, memoryBudget);
        } catch (Trainer.TooLarge e) {
            throw new Invalid(Invalid.OVERSIZE, e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new Invalid(Invalid.UNTRAINABLE, e.getMessage());
        }
    }

    /** Refuses a batch meant for another model. */
    public void requireFingerprint(String modelFingerprint) {
        if (this.modelFingerprint != null && !this.modelFingerprint.equals(modelFingerprint)) {
            throw new Invalid(Invalid.FINGERPRINT_MISMATCH, "model_fingerprint " + this.modelFingerprint
                    + " is not this trainer's model " + modelFingerprint);
        }
    }

    public boolean replaces() {
        return mode.equals("replace");
    }

    /** The JSON value produced to laai.demonstrations. */
    public byte[] toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("task", task);
        var arr = n.putArray("demonstrations");
        for (Demonstration d : demonstrations) {
            TaskFile.write(arr.addObject(), d);
        }
        n.put("mode", mode);
        if (modelFingerprint != null) {
            n.put("model_fingerprint", modelFingerprint);
        }
        if (!config.isEmpty()) {
            ObjectNode c = n.putObject("config");
            config.forEach(c::put);
        }
        if (allowUnvalidated) {
            n.put("allow_unvalidated", true);
        }
        try {
            return JSON.writeValueAsBytes(n);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<Demonstration> demonstrations() {
        return new ArrayList<>(demonstrations);
    }
}
