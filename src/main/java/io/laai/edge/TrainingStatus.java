package io.laai.edge;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.contract.TrainingEvents;
import io.laai.kafka.KafkaClients;
import io.laai.kafka.Topics;

/**
 * The edge's view of laai.training-events: each task's newest event, so a request for a task that
 * has no version yet can say it is training (and at which step) or why its last candidate was not
 * published. It starts a bounded way back (the newest {@link #LOOKBACK} events of each partition)
 * and follows; it is informational, and a task it has not heard of is simply unknown.
 */
public final class TrainingStatus implements AutoCloseable {

    static final int LOOKBACK = 2000;
    private static final Logger LOG = Logger.getLogger(TrainingStatus.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, JsonNode> latest = new ConcurrentHashMap<>();
    private final Thread thread;

    public TrainingStatus(KafkaClients clients) {
        this.consumer = clients.consumer("edge", Map.of(ConsumerConfig.CLIENT_ID_CONFIG, "laai-training-status",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
        this.thread = new Thread(this::run, "laai-training-status");
        this.thread.setDaemon(true);
    }

    public TrainingStatus start() {
        thread.start();
        return this;
    }

    /** The task's newest training event, if one was seen. */
    public Optional<JsonNode> latest(String task) {
        return Optional.ofNullable(latest.get(task));
    }

    private void run() {
        try {
            var infos = consumer.partitionsFor(Topics.TRAINING_EVENTS, Duration.ofSeconds(30));
            List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            Map<TopicPartition, Long> from = new HashMap<>();
            end.forEach((tp, e) -> from.put(tp, Math.max(begin.getOrDefault(tp, 0L), e - LOOKBACK)));
            from.forEach(consumer::seek);
            while (!Thread.currentThread().isInterrupted()) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    apply(r);
                }
            }
        } catch (WakeupException e) {
            // close() asked us to stop
        } catch (RuntimeException e) {
            LOG.warnf("Training status stopped following %s: %s", Topics.TRAINING_EVENTS, e.getMessage());
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    void apply(ConsumerRecord<String, byte[]> r) {
        if (r.key() == null || r.value() == null) {
            return;
        }
        try {
            JsonNode n = JSON.readTree(r.value());
            if (n.path("event").isTextual()) {
                latest.put(r.key(), n);
            }
        } catch (java.io.IOException e) {
            LOG.debugf("Ignoring an unreadable training event for %s", r.key());
        }
    }

    /** A problem's extra members for a task with no version: its training, or its last outcome. */
    public static Map<String, Object> describe(JsonNode event) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        String type = event.path("event").asText();
        boolean training = List.of(TrainingEvents.QUEUED, TrainingEvents.STARTED, TrainingEvents.PROGRESS).contains(type);
        m.put("training_status", training ? "training" : type);
        m.put("event", type);
        for (String f : List.of("version", "step", "loss", "reason", "at")) {
            if (event.has(f)) {
                JsonNode v = event.get(f);
                m.put(f, v.isNumber() ? v.numberValue() : v.asText());
            }
        }
        return m;
    }

    @Override
    public void close() {
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
