package io.laai.edge;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.jboss.logging.Logger;

import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import io.laai.model.LanguageModel;
import io.laai.model.ModelFormatException;

/**
 * The edge's view of {@code laai.interventions}: reads the compacted topic from the beginning,
 * with no consumer group (every edge reads every partition), and keeps each task's newest valid
 * artifact for this model. A record is applied only if it decodes, fits the model (fingerprint,
 * sizes, finite values) and has a higher version than the one held; a tombstone removes the task.
 * Interventions are immutable, so a request that took one keeps it while newer versions arrive.
 */
public final class InterventionRegistry implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(InterventionRegistry.class);

    private final String topic;
    private final LanguageModel model;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, Intervention> current = new ConcurrentHashMap<>();
    private final Map<String, Norms> previous = new ConcurrentHashMap<>();
    private volatile long lag = -1;
    private final AtomicLong rejected = new AtomicLong();
    private final Thread thread;
    private volatile boolean caughtUp;
    private volatile Throwable failure;

    public InterventionRegistry(String bootstrapServers, String topic, LanguageModel model) {
        this(io.laai.kafka.KafkaClients.of(bootstrapServers), topic, model);
    }

    /** Reads with read_committed: an artifact a trainer's transaction did not commit is never served. */
    public InterventionRegistry(io.laai.kafka.KafkaClients clients, String topic, LanguageModel model) {
        this.topic = topic;
        this.model = model;
        this.consumer = clients.consumer("edge", Map.of(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.CLIENT_ID_CONFIG, "laai-registry",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
        this.thread = new Thread(this::run, "laai-registry");
        this.thread.setDaemon(true);
    }

    public synchronized InterventionRegistry start() {
        if (!thread.isAlive()) {
            thread.start();
        }
        return this;
    }

    /** The newest valid intervention of a task, if any. */
    public Optional<Intervention> get(String task) {
        return Optional.ofNullable(current.get(task));
    }

    /** Every task held, by name. */
    public Map<String, Intervention> all() {
        return Map.copyOf(current);
    }

    /** True once everything that was on the topic when the registry started has been read. */
    public boolean caughtUp() {
        return caughtUp;
    }

    /** The reason the reader stopped, if it did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    public long rejectedCount() {
        return rejected.get();
    }

    /** Records on the topic not yet read, as of the last poll; -1 before the first. */
    public long lag() {
        return lag;
    }

    /** The norms of the version a task had before its current one, where this registry saw both. */
    public Optional<Norms> previous(String task) {
        return Optional.ofNullable(previous.get(task));
    }

    /**
     * Only the norms of a replaced version are kept: what shows where Δ moved between versions
     * costs layers × heads numbers, not a second artifact per task.
     */
    public record Norms(long version, String site, Map<Integer, Double> layerNorms, Map<Integer, double[]> headNorms) {
        public static Norms of(Intervention iv) {
            return new Norms(iv.version(), iv.site().id(), iv.layerNorms(), iv.headNorms());
        }
    }

    private void run() {
        try {
            List<TopicPartition> partitions = waitForPartitions();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (!Thread.currentThread().isInterrupted()) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    apply(r);
                }
                lag = lag(partitions);
                if (!caughtUp && end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                    caughtUp = true;
                    LOG.infof("Intervention registry caught up: %d tasks", current.size());
                }
            }
        } catch (WakeupException e) {
            // close() asked us to stop
        } catch (RuntimeException e) {
            failure = e;
            LOG.errorf(e, "Intervention registry stopped reading %s", topic);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private long lag(List<TopicPartition> partitions) {
        long sum = 0;
        for (TopicPartition tp : partitions) {
            java.util.OptionalLong l = consumer.currentLag(tp);
            if (l.isEmpty()) {
                return lag; // not known yet for this partition: keep the last figure
            }
            sum += l.getAsLong();
        }
        return sum;
    }

    private List<TopicPartition> waitForPartitions() {
        while (true) {
            var infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
            if (infos != null && !infos.isEmpty()) {
                return infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).collect(Collectors.toList());
            }
            LOG.warnf("Topic %s has no partitions yet; waiting", topic);
        }
    }

    void apply(ConsumerRecord<String, byte[]> r) {
        String where = topic + "-" + r.partition() + "@" + r.offset();
        String task = r.key();
        if (task == null) {
            reject(where, "record has no key (the task id)");
            return;
        }
        if (r.value() == null) {
            previous.remove(task);
            if (current.remove(task) != null) {
                LOG.infof("Task %s deleted (tombstone at %s)", task, where);
            }
            return;
        }
        Intervention iv;
        try {
            iv = Artifacts.decode(r.value(), where);
            Artifacts.requireCompatible(iv, model);
        } catch (ModelFormatException | IllegalArgumentException e) {
            reject(where, e.getMessage());
            return;
        }
        if (!iv.task().equals(task)) {
            reject(where, "record key '" + task + "' differs from the artifact's task '" + iv.task() + "'");
            return;
        }
        Intervention held = current.get(task);
        if (held != null && held.version() >= iv.version()) {
            return; // a replay or an older version: the newer one stays
        }
        if (held != null) {
            previous.put(task, Norms.of(held));
        }
        current.put(task, iv);
        LOG.debugf("Task %s now at version %d", task, iv.version());
    }

    private void reject(String where, String reason) {
        rejected.incrementAndGet();
        LOG.warnf("Ignoring intervention record %s: %s", where, reason);
    }

    @Override
    public synchronized void close() {
        if (!thread.isAlive() && thread.getState() == Thread.State.NEW) {
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
