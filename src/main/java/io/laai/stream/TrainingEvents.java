package io.laai.stream;

import java.time.Instant;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.kafka.Topics;

/**
 * JSON events on laai.training-events, keyed by task: queued, started, progress, published,
 * rejected, failed. Each carries task, event, trainer (the instance) and at (ISO-8601).
 */
final class TrainingEvents {

    private static final Logger LOG = Logger.getLogger(TrainingEvents.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaProducer<String, byte[]> producer;
    private final String trainer;

    TrainingEvents(KafkaProducer<String, byte[]> producer, String trainer) {
        this.producer = producer;
        this.trainer = trainer;
    }

    ObjectNode of(String task, String event) {
        return JSON.createObjectNode().put("task", task).put("event", event).put("trainer", trainer)
                .put("at", Instant.now().toString());
    }

    ProducerRecord<String, byte[]> record(String task, ObjectNode event) {
        try {
            ProducerRecord<String, byte[]> r = new ProducerRecord<>(Topics.TRAINING_EVENTS, task, JSON.writeValueAsBytes(event));
            r.headers().add("content-type", "application/json".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return r;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Fire and forget: queued, started and progress events inform; outcomes are sent and awaited by the pipeline. */
    void send(ObjectNode event) {
        producer.send(record(event.get("task").asText(), event), (m, e) -> {
            if (e != null) {
                LOG.warnf("Could not publish a training event for %s: %s", event.get("task").asText(), e.getMessage());
            }
        });
    }
}
