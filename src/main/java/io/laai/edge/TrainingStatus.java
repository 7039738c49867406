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
 * and follows; it is informational, and a task it has not heard of is simply unknown. It also keeps
 * each task's recent events (the dashboard's history and loss curves) and hands every new event to
 * its subscribers (the dashboard's event stream).
 */
public final class TrainingStatus implements AutoCloseable {

    static final int LOOKBACK = 2000;
    /** Events kept per task, and tasks kept with history: at most some 60,000 small JSON events. */
    static final int HISTORY_PER_TASK = 120;
    static final int HISTORY_TASKS = 500;
    private static final Logger LOG = Logger.getLogger(TrainingStatus.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, JsonNode> latest = new ConcurrentHashMap<>();
    /** Guarded by itself; the task whose newest event is oldest is dropped first. */
    private final Map<String, java.util.ArrayDeque<JsonNode>> history = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, java.util.ArrayDeque<JsonNode>> eldest) {
            return size() > HISTORY_TASKS;
        }
    };
    private final List<java.util.function.Consumer<JsonNode>> subscribers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean caughtUp;
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

    /** The task's recent events, oldest first (up to {@link #HISTORY_PER_TASK}). */
    public List<JsonNode> history(String task) {
        synchronized (history) {
            var h = history.get(task);
            return h == null ? List.of() : List.copyOf(h);
        }
    }

    /** Every task with a training event seen, by name. */
    public java.util.Set<String> tasks() {
        return new java.util.TreeSet<>(latest.keySet());
    }

    /** True once the events that were on the topic at start have been read. */
    public boolean caughtUp() {
        return caughtUp;
    }

    /**
     * Hands each event read from now on to the subscriber, on the reader's thread (so it must
     * not block); closing the handle stops it.
     */
    public AutoCloseable subscribe(java.util.function.Consumer<JsonNode> subscriber) {
        subscribers.add(subscriber);
        return () -> subscribers.remove(subscriber);
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
                if (!caughtUp && end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                    caughtUp = true;
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
                synchronized (history) {
                    var h = history.computeIfAbsent(r.key(), k -> new java.util.ArrayDeque<>());
                    if (h.size() == HISTORY_PER_TASK) {
                        h.removeFirst();
                    }
                    h.addLast(n);
                }
                for (var s : subscribers) {
                    try {
                        s.accept(n);
                    } catch (RuntimeException e) { // one subscriber's failure must not stop the status
                        LOG.debugf(e, "A training-event subscriber failed");
                    }
                }
            }
        } catch (java.io.IOException e) {
            LOG.debugf("Ignoring an unreadable training event for %s", r.key());
        }
    }

    /** A problem's extra members for a task with no version: its training, or its last outcome. */
    public static Map<String, Object> describe(JsonNode event) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        String type = event.path("event").asText();
        boolean training = TrainingEvents.training(type);
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
        if (thread.getState() == Thread.State.NEW) {
            consumer.close(Duration.ZERO);
            return;
        }
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
