package io.laai.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.laai.contract.TrainingEvents;
import io.laai.kafka.KafkaClients;
import io.laai.kafka.Topics;

/** What the edge keeps of laai.training-events: the newest event, a bounded history, and what subscribers get. */
class TrainingStatusTest {

    private long offset;

    private ConsumerRecord<String, byte[]> event(String task, String type, int step) {
        String json = TrainingEvents.of(task, type, "t").put("version", 1).put("step", step).toString();
        return new ConsumerRecord<>(Topics.TRAINING_EVENTS, 0, offset++, task, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void historyIsBoundedPerTaskAndSubscribersSeeEachNewEvent() throws Exception {
        try (TrainingStatus status = new TrainingStatus(KafkaClients.of("localhost:1"))) {
            List<JsonNode> seen = new ArrayList<>();
            AutoCloseable subscription = status.subscribe(seen::add);
            for (int i = 0; i < TrainingStatus.HISTORY_PER_TASK + 30; i++) {
                status.apply(event("a", TrainingEvents.PROGRESS, i));
            }
            status.apply(event("b", TrainingEvents.QUEUED, 0));
            status.apply(new ConsumerRecord<>(Topics.TRAINING_EVENTS, 0, offset++, "b", "not json".getBytes(StandardCharsets.UTF_8)));
            subscription.close();
            status.apply(event("b", TrainingEvents.PUBLISHED, 0));

            List<JsonNode> a = status.history("a");
            assertEquals(TrainingStatus.HISTORY_PER_TASK, a.size());
            assertEquals(30, a.get(0).path("step").asInt(), "the oldest events go first");
            assertEquals(TrainingStatus.HISTORY_PER_TASK + 29, a.get(a.size() - 1).path("step").asInt());
            assertEquals(List.of("queued", "published"), status.history("b").stream().map(e -> e.path("event").asText()).toList());
            assertEquals(Set.of("a", "b"), status.tasks());
            assertEquals("published", status.latest("b").orElseThrow().path("event").asText());
            assertEquals(TrainingStatus.HISTORY_PER_TASK + 31, seen.size(), "every event up to the unsubscribe, none unreadable");
            assertTrue(status.history("c").isEmpty());
        }
    }

    @Test
    void theTasksWithTheOldestEventsLoseTheirHistoryFirst() {
        try (TrainingStatus status = new TrainingStatus(KafkaClients.of("localhost:1"))) {
            for (int t = 0; t <= TrainingStatus.HISTORY_TASKS; t++) {
                status.apply(event("task-" + t, TrainingEvents.QUEUED, 0));
            }
            assertTrue(status.history("task-0").isEmpty(), "the first task's history was dropped");
            assertEquals(1, status.history("task-1").size());
            assertEquals(1, status.history("task-" + TrainingStatus.HISTORY_TASKS).size());
            assertTrue(status.latest("task-0").isPresent(), "its newest event is still known");
        }
    }
}
