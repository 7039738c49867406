package io.laai.stream;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.train.Demonstration;
import io.laai.train.TaskFile;
import io.laai.train.TrainConfig;

/**
 * A demonstration batch as DESIGN.md defines it (the value on laai.demonstrations), validated by
 * the same code wherever it enters: task id, demonstrations, mode, fingerprint, config overrides.
 */
public record DemonstrationBatch(String task, List<Demonstration> demonstrations, String mode, String modelFingerprint,
        Map<String, String> config) {

    public static final int MAX_DEMONSTRATIONS = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses and validates; every problem names the field. pathTask, when given, must agree with "task". */
    public static DemonstrationBatch parse(JsonNode node, String pathTask, int maxFieldChars) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("a demonstration batch must be a JSON object");
        }
        String task = node.hasNonNull("task") ? node.get("task").asText() : pathTask;
        if (pathTask != null && !pathTask.equals(task)) {
            throw new IllegalArgumentException("task '" + task + "' in the body differs from '" + pathTask + "' in the path");
        }
        if (task == null || !TaskFile.TASK_ID.matcher(task).matches()) {
            throw new IllegalArgumentException("task '" + task + "' must be 1-128 letters, digits, '.', '_' or '-'");
        }
        JsonNode demos = node.get("demonstrations");
        if (demos == null || !demos.isArray() || demos.isEmpty()) {
            throw new IllegalArgumentException("demonstrations must be a non-empty array of {prompt, completion}");
        }
        if (demos.size() > MAX_DEMONSTRATIONS) {
            throw new IllegalArgumentException("demonstrations has " + demos.size() + " entries; the limit is "
                    + MAX_DEMONSTRATIONS);
        }
        List<Demonstration> list = TaskFile.demos(demos, "demonstrations");
        for (int i = 0; i < list.size(); i++) {
            Demonstration d = list.get(i);
            if (d.prompt().length() > maxFieldChars || d.completion().length() > maxFieldChars) {
                throw new IllegalArgumentException("demonstrations[" + i + "] has a field over " + maxFieldChars
                        + " characters");
            }
        }
        String mode = node.path("mode").asText("append");
        if (!mode.equals("append") && !mode.equals("replace")) {
            throw new IllegalArgumentException("mode '" + mode + "' is not append or replace");
        }
        Map<String, String> config = new LinkedHashMap<>();
        JsonNode cfg = node.get("config");
        if (cfg != null && !cfg.isNull()) {
            if (!cfg.isObject()) {
                throw new IllegalArgumentException("config must be an object of training settings");
            }
            cfg.fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
            TrainConfig.DEFAULTS.with(config); // refuses unknown or malformed settings now, not at training time
        }
        String fingerprint = node.hasNonNull("model_fingerprint") ? node.get("model_fingerprint").asText() : null;
        return new DemonstrationBatch(task, list, mode, fingerprint, config);
    }

    /** The JSON value produced to laai.demonstrations. */
    public byte[] toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("task", task);
        var arr = n.putArray("demonstrations");
        for (Demonstration d : demonstrations) {
            arr.addObject().put("prompt", d.prompt()).put("completion", d.completion());
        }
        n.put("mode", mode);
        if (modelFingerprint != null) {
            n.put("model_fingerprint", modelFingerprint);
        }
        if (!config.isEmpty()) {
            ObjectNode c = n.putObject("config");
            config.forEach(c::put);
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
