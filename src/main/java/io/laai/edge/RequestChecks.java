package io.laai.edge;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.laai.LaaiConfig;
import io.laai.intervention.Composition;
import io.laai.intervention.Intervention;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;

/** The checks and the intervention snapshot every generating endpoint shares. */
final class RequestChecks {

    private RequestChecks() {
    }

    static String prompt(String prompt, LaaiConfig.Edge limits) {
        if (prompt == null) {
            throw Problem.Failure.badRequest("prompt is required and must be a string");
        }
        if (prompt.length() > limits.maxPromptChars()) {
            throw Problem.Failure.badRequest("prompt has " + prompt.length() + " characters; the limit is "
                    + limits.maxPromptChars() + " (laai.edge.max-prompt-chars)");
        }
        return prompt;
    }

    /** Most stop strings a request may give, and their longest length. */
    static final int MAX_STOPS = 16;
    static final int MAX_STOP_CHARS = 256;

    static SamplingParams sampling(int maxTokens, double temperature, double topP, long seed, List<String> stop) {
        return new SamplingParams(maxTokens, temperature, topP, seed, stops(stop), false);
    }

    /** Refuses stop strings over MAX_STOP_CHARS. */
    static List<String> stops(List<String> stop) {
        for (String s : stop) {
            if (s.length() > MAX_STOP_CHARS) {
                throw Problem.Failure.badRequest("a stop string has " + s.length() + " characters; the limit is "
                        + MAX_STOP_CHARS).param("stop");
            }
        }
        return stop;
    }

    static int maxTokens(int requested, LaaiConfig.Edge limits) {
        if (requested < 1 || requested > limits.maxTokens()) {
            throw Problem.Failure.badRequest("max_tokens must be in [1, " + limits.maxTokens() + "], was " + requested
                    + " (laai.edge.max-tokens)");
        }
        return requested;
    }

    /** The interventions a request applies, taken once when it starts: later versions never change them. */
    static final class Snapshot {
        private final RegistryService registry;
        private final double maxScale;
        private final Map<Intervention, Double> weighted = new LinkedHashMap<>();
        private final List<GenerateResponse.Applied> applied = new ArrayList<>();

        Snapshot(RegistryService registry, LaaiConfig.Edge limits) {
            this.registry = registry;
            this.maxScale = limits.maxScale();
        }

        Snapshot add(String task, double scale) {
            if (!Double.isFinite(scale) || Math.abs(scale) > maxScale) {
                throw Problem.Failure.badRequest("scale " + scale + " for task '" + task + "' is outside [-" + maxScale
                        + ", " + maxScale + "] (laai.edge.max-scale)");
            }
            Intervention iv = registry.get(task).orElseThrow(() -> Problem.Failure.notFound(
                    "no intervention for task '" + task + "'"));
            if (weighted.containsKey(iv)) {
                throw Problem.Failure.badRequest("task '" + task + "' is named twice");
            }
            weighted.put(iv, scale);
            applied.add(new GenerateResponse.Applied(task, iv.version(), scale));
            return this;
        }

        /** A list of {task, scale} (scale 1 when left out), as /v1/generate and OpenAI's laai extension take it. */
        Snapshot addAll(JsonNode list, String field) {
            if (list == null) {
                return this;
            }
            if (!list.isArray()) {
                throw JsonBody.wrongType(field, "an array of {task, scale}", list);
            }
            for (int i = 0; i < list.size(); i++) {
                String at = field + "[" + i + "]";
                JsonBody w = JsonBody.of(list.get(i), at + " is {task, scale}", java.util.Set.of("task", "scale"));
                String t = w.string("task");
                if (t == null) {
                    throw Problem.Failure.badRequest(at + " needs a task").param(field);
                }
                Double s = w.number("scale");
                add(t, s == null ? 1.0 : s);
            }
            return this;
        }

        Steering steering() {
            return weighted.isEmpty() ? Steering.NONE : Composition.of(weighted);
        }

        List<GenerateResponse.Applied> applied() {
            return applied;
        }
    }
}
