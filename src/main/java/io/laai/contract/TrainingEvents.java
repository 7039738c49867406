package io.laai.contract;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.apache.kafka.clients.producer.ProducerRecord;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

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

    public static ObjectNode of(String task, String event, String trainer) {
        return JSON.createObjectNode().put("task", task).put("event", event).put("trainer", trainer)
                .put("at", Instant.now().toString());
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
