package io.laai.edge;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.LaaiConfig;
import io.laai.model.Generator;
import io.laai.model.SamplingParams;

/**
 * What the completions and chat endpoints read alike: the model (base, or tasks with weights),
 * the laai extension, sampling, n, stream and seed. Every field is checked before anything is
 * generated, so a streamed answer never starts for a request that cannot run.
 */
final class OpenAiRequest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Most choices one request may ask for (n, best_of, times its prompts). */
    static final int MAX_CHOICES = 16;
    /** OpenAI's own limit on logit_bias entries. */
    static final int MAX_LOGIT_BIAS = 300;
    /** Seeds stay below 2^53 so JavaScript clients read the seed a response reports exactly. */
    static final long SEED_BOUND = 1L << 53;

    final String model;
    final RequestChecks.Snapshot snapshot;
    final long seed;
    final int n;
    final boolean stream;
    final boolean includeUsage;
    final double temperature;
    final double topP;
    final List<String> stop;
    final double presence;
    final double frequency;
    final Map<Integer, Double> logitBias;

    OpenAiRequest(JsonBody body, RegistryService registry, LaaiConfig.Edge limits, int vocab) {
        model = body.string("model");
        if (model == null || model.isEmpty()) {
            throw Problem.Failure.badRequest("model is required: 'base', a task id, or tasks joined with '+', each"
                    + " optionally weighted as task*scale").param("model");
        }
        snapshot = new RequestChecks.Snapshot(registry, limits);
        steering(model, snapshot);
        if (body.has("laai")) {
            JsonBody ext = JsonBody.of(body.raw("laai"), "laai is {interventions: [{task, scale}]}", Set.of("interventions"));
            snapshot.addAll(ext.raw("interventions"), "laai.interventions");
        }
        Long requestedSeed = body.integer64("seed");
        seed = requestedSeed != null ? requestedSeed : ThreadLocalRandom.current().nextLong(SEED_BOUND);
        Integer count = body.integer("n");
        n = count == null ? 1 : count;
        if (n < 1 || n > MAX_CHOICES) {
            throw Problem.Failure.badRequest("n must be in [1, " + MAX_CHOICES + "], was " + n).param("n");
        }
        Boolean s = body.bool("stream");
        stream = Boolean.TRUE.equals(s);
        boolean usage = false;
        if (body.has("stream_options")) {
            if (!stream) {
                throw Problem.Failure.badRequest("stream_options is only allowed with stream: true").param("stream_options");
            }
            JsonBody o = JsonBody.of(body.raw("stream_options"), "stream_options is {include_usage}", Set.of("include_usage"));
            usage = Boolean.TRUE.equals(o.bool("include_usage"));
        }
        includeUsage = usage;
        Double t = body.number("temperature");
        temperature = t == null ? 1.0 : t;
        if (temperature < 0 || temperature > 2) {
            throw Problem.Failure.badRequest("temperature must be in [0, 2], was " + temperature).param("temperature");
        }
        Double p = body.number("top_p");
        topP = p == null ? 1.0 : p;
        if (!(topP > 0) || topP > 1) {
            throw Problem.Failure.badRequest("top_p must be in (0, 1], was " + topP).param("top_p");
        }
        stop = RequestChecks.stops(body.strings("stop", RequestChecks.MAX_STOPS));
        presence = penalty(body, "presence_penalty");
        frequency = penalty(body, "frequency_penalty");
        logitBias = logitBias(body.raw("logit_bias"), vocab);
        String user = body.string("user");
        if (user != null && user.length() > 256) {
            throw Problem.Failure.badRequest("user has " + user.length() + " characters; the limit is 256").param("user");
        }
    }

    /**
     * The model grammar: {@code base}, or terms joined with '+', each {@code task} or
     * {@code task*scale} (e.g. {@code little-dog*0.5+felt-sad}); a task id never holds '+' or '*'.
     */
    static void steering(String model, RequestChecks.Snapshot snapshot) {
        if (model.equals("base")) {
            return;
        }
        for (String term : model.split("\\+", -1)) {
            int star = term.lastIndexOf('*');
            String task = star < 0 ? term : term.substring(0, star);
            double scale = 1.0;
            if (star >= 0) {
                try {
                    scale = Double.parseDouble(term.substring(star + 1));
                } catch (NumberFormatException e) {
                    throw Problem.Failure.badRequest("model term '" + term + "' has no number after '*'").param("model");
                }
            }
            if (task.isEmpty()) {
                throw Problem.Failure.badRequest("model '" + model + "' has an empty task name").param("model");
            }
            try {
                snapshot.add(task, scale);
            } catch (Problem.Failure f) {
                throw f.param("model");
            }
        }
    }

    private static double penalty(JsonBody body, String field) {
        Double v = body.number(field);
        if (v == null) {
            return 0;
        }
        if (v < -2 || v > 2) {
            throw Problem.Failure.badRequest(field + " must be in [-2, 2], was " + v).param(field);
        }
        return v;
    }

    /** OpenAI's logit_bias: token ids (as object keys) to a bias in [-100, 100]. */
    static Map<Integer, Double> logitBias(JsonNode v, int vocab) {
        Map<Integer, Double> out = new HashMap<>();
        if (v == null) {
            return out;
        }
        if (!v.isObject()) {
            throw JsonBody.wrongType("logit_bias", "an object of token id to bias", v);
        }
        if (v.size() > MAX_LOGIT_BIAS) {
            throw Problem.Failure.badRequest("logit_bias has " + v.size() + " entries; at most " + MAX_LOGIT_BIAS
                    + " are allowed").param("logit_bias");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException bad) {
                throw Problem.Failure.badRequest("logit_bias key '" + e.getKey() + "' is not a token id").param("logit_bias");
            }
            if (id < 0 || id >= vocab) {
                throw Problem.Failure.badRequest("logit_bias token " + id + " is outside the vocabulary [0, " + vocab + ")")
                        .param("logit_bias");
            }
            if (!e.getValue().isNumber() || !(Math.abs(e.getValue().asDouble()) <= 100)) {
                throw Problem.Failure.badRequest("logit_bias for token " + id + " must be a number in [-100, 100]")
                        .param("logit_bias");
            }
            out.put(id, e.getValue().asDouble());
        }
        return out;
    }

    /** Refuses a field LAAI does not implement unless it is at its neutral value. */
    static void unsupported(String field, boolean set) {
        if (set) {
            throw Problem.Failure.badRequest(field + " is not supported by this server; leave it out or at its default")
                    .param(field);
        }
    }

    /** The fields every answer and chunk starts with: OpenAI's, then the seed used and the interventions applied. */
    ObjectNode head(String id, long created, List<GenerateResponse.Applied> applied, String object) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", id);
        n.put("object", object);
        n.put("created", created);
        n.put("model", model);
        n.put("seed", seed);
        if (applied != null) {
            n.set("interventions", JSON.valueToTree(applied));
        }
        return n;
    }

    /**
     * One streamed chunk of one choice: {index, field: value, logprobs: null, finish_reason (null
     * until its end)}; the last ({@code done} given) also says which conditions did not hold.
     */
    String chunk(String id, long created, List<GenerateResponse.Applied> applied, String object, int index, String field,
            JsonNode value, Generator.Result done) {
        ObjectNode n = head(id, created, applied, object);
        ObjectNode choice = n.putArray("choices").addObject();
        choice.put("index", index);
        choice.set(field, value);
        choice.putNull("logprobs");
        choice.put("finish_reason", done == null ? null : done.finishReason()); // Jackson writes a null String as JSON null
        if (done != null) {
            conditions(choice, applied, done);
        }
        return n.toString();
    }

    /**
     * A steered choice names the conditional tasks whose condition did not hold for its prompt, so
     * their Δ was left out (an empty list when every task applied); a base one has no such field.
     */
    static void conditions(ObjectNode choice, List<GenerateResponse.Applied> applied, Generator.Result r) {
        if (applied != null && !applied.isEmpty()) {
            var unmet = choice.putArray("conditions_unmet");
            new java.util.TreeSet<>(r.conditionsUnmet()).forEach(unmet::add);
        }
    }

    /** Sampling for choice {@code index} of this request: choice i samples with seed + i. */
    SamplingParams params(int maxTokens, int index, int logprobs, Set<Integer> stopTokens, List<String> moreStops) {
        List<String> stops = new ArrayList<>(stop);
        for (String s : moreStops) {
            if (!stops.contains(s)) {
                stops.add(s);
            }
        }
        return new SamplingParams(maxTokens, temperature, topP, seed + index, stops, false, presence, frequency, logitBias,
                logprobs, stopTokens);
    }
}
