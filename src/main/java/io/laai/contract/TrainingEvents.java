package io.laai.contract;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.apache.kafka.clients.producer.ProducerRecord;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.intervention.Intervention;
import io.laai.kafka.Topics;

/**
 * The JSON events on laai.training-events, keyed by task. Each carries task, event, trainer (the
 * instance) and at (ISO-8601). Per task they come in this order: queued (a batch was accepted),
 * started, progress..., then one outcome: published, rejected, failed or deleted.
 */
public final class TrainingEvents {

    public static final String QUEUED = "queued";
    public static final String STARTED = "started";
    public static final String PROGRESS = "progress";
    public static final String PUBLISHED = "published";
    public static final String REJECTED = "rejected";
    public static final String FAILED = "failed";
    public static final String DELETED = "deleted";

    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingEvents() {
    }

    /** Whether an event of this type means the task is training (its outcome is yet to come). */
    public static boolean training(String type) {
        return QUEUED.equals(type) || STARTED.equals(type) || PROGRESS.equals(type);
    }

    public static ObjectNode of(String task, String event, String trainer) {
        return JSON.createObjectNode().put("task", task).put("event", event).put("trainer", trainer)
                .put("at", Instant.now().toString());
    }

    /**
     * Adds where a candidate's Δ acts, by layer (and head, at attn_heads), to its outcome: the
     * dashboard draws it for a version and the one before, which the compacted topic may no longer hold.
     */
    public static ObjectNode norms(ObjectNode event, Intervention iv) {
        ObjectNode layers = event.putObject("layer_norms");
        iv.layerNorms().forEach((l, n) -> layers.put(Integer.toString(l), n));
        ObjectNode heads = event.putObject("head_norms");
        iv.headNorms().forEach((l, h) -> {
            var a = heads.putArray(Integer.toString(l));
            for (double x : h) {
                a.add(x);
            }
        });
        return event.put("site", iv.site().id());
    }

    public static ProducerRecord<String, byte[]> record(ObjectNode event) {
        try {
            ProducerRecord<String, byte[]> r = new ProducerRecord<>(Topics.TRAINING_EVENTS, event.get("task").asText(),
                    JSON.writeValueAsBytes(event));
            r.headers().add("content-type", "application/json".getBytes(StandardCharsets.UTF_8));
            return r;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
