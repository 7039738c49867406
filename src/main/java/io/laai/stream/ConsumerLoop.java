package io.laai.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import io.laai.contract.DeadLetters;
import io.laai.contract.DemonstrationBatch;
import io.laai.contract.TaskId;
import io.laai.contract.TaskState;
import io.laai.contract.TrainingEvents;
import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import io.laai.kafka.CompactedTopics;
import io.laai.kafka.Topics;
import io.laai.model.LanguageModel;
import io.laai.model.ModelFormatException;

/**
 * The polling thread: reads laai.demonstrations (read_committed), validates each record, and
 * either dead-letters it, forwards it to the partition its task belongs to (both in one
 * transaction with its offset), or puts it on the task board. It pauses fetching while too many
 * records wait, and on a rebalance loads the states of the tasks it gains and, for those it gives
 * up, waits for their training to commit first.
 */
final class ConsumerLoop {

    private static final Logger LOG = Logger.getLogger(ConsumerLoop.class);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
    static final int COMMIT_ATTEMPTS = 3;

    private final TrainerPipeline.Settings settings;
    private final LanguageModel lm;
    private final KafkaConsumer<String, byte[]> consumer;
    private final OffsetLedger ledger;
    private final TaskBoard board;
    private final TrainerMetrics metrics;
    private final AtomicReference<ConsumerGroupMetadata> group;
    private final BooleanSupplier stopping;
    private final int partitions;
    private final AtomicLong assignments = new AtomicLong();
    private OutcomeWriter writer;
    private boolean paused;

    ConsumerLoop(TrainerPipeline.Settings settings, LanguageModel lm, KafkaConsumer<String, byte[]> consumer,
            OffsetLedger ledger, TaskBoard board, TrainerMetrics metrics, AtomicReference<ConsumerGroupMetadata> group,
            int partitions, BooleanSupplier stopping) {
        this.settings = settings;
        this.lm = lm;
        this.consumer = consumer;
        this.ledger = ledger;
        this.board = board;
        this.metrics = metrics;
        this.group = group;
        this.partitions = partitions;
        this.stopping = stopping;
    }

    void writer(OutcomeWriter writer) {
        this.writer = writer;
    }

    long assignments() {
        return assignments.get();
    }

    /** Polls until stopping; exceptions end the loop (the pipeline records them). */
    void run() {
        consumer.subscribe(List.of(Topics.DEMONSTRATIONS), new Rebalance());
        while (!stopping.getAsBoolean()) {
            var records = consumer.poll(Duration.ofMillis(200));
            group.set(consumer.groupMetadata());
            List<ProducerRecord<String, byte[]>> writes = new ArrayList<>();
            List<Pending> covered = new ArrayList<>();
            for (ConsumerRecord<String, byte[]> r : records) {
                accept(r, writes, covered);
            }
            // Dead letters and forwards of this poll, and the offsets of replays, in one transaction.
            commit(writes, covered, covered.stream().map(Pending::topicPartition).collect(Collectors.toSet()), () -> true);
            backpressure();
            metrics.lag.set(consumer.assignment().stream().mapToLong(tp -> consumer.currentLag(tp).orElse(0)).sum());
        }
    }

    /**
     * Commits through the writer, retrying an aborted transaction (a rebalance raced it) while
     * {@code owned} holds; when it no longer does, the next owner replays the items.
     */
    void commit(List<ProducerRecord<String, byte[]>> records, List<Pending> covered, Set<TopicPartition> fence,
            BooleanSupplier owned) {
        for (int attempt = 1; ; attempt++) {
            try {
                writer.commit(records, covered, fence);
                return;
            } catch (OutcomeWriter.Aborted e) {
                if (!owned.getAsBoolean() || stopping.getAsBoolean()) {
                    LOG.infof("An outcome transaction was aborted and its partition is no longer ours; "
                            + "its next owner replays it (%s)", e.getMessage());
                    return;
                }
                if (attempt == COMMIT_ATTEMPTS) {
                    throw e;
                }
                LOG.infof("An outcome transaction was aborted (%s); retrying", e.getMessage());
                sleep(200L * attempt);
            }
        }
    }

    private void accept(ConsumerRecord<String, byte[]> r, List<ProducerRecord<String, byte[]>> writes, List<Pending> covered) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        ledger.received(tp, r.offset());
        metrics.consumed.increment();
        String task;
        Pending item;
        try {
            if (r.value() == null) {
                task = r.key();
                if (TaskId.problem(task) != null) {
                    throw new DemonstrationBatch.Invalid(DemonstrationBatch.Invalid.INVALID_BATCH,
                            "a tombstone deletes the task its key names; " + TaskId.problem(task));
                }
                item = new Pending(r, null);
            } else {
                DemonstrationBatch batch = DemonstrationBatch.parse(r.key(), r.value(), settings.limits());
                batch.requireFingerprint(lm.fingerprint());
                batch.requireTrainable(lm, settings.defaults(), settings.memoryBudget());
                task = batch.task();
                item = new Pending(r, batch);
            }
        } catch (DemonstrationBatch.Invalid e) {
            metrics.rejected(e.code());
            LOG.debugf("Dead-lettering %s-%d@%d: %s", r.topic(), r.partition(), r.offset(), e.getMessage());
            writes.add(DeadLetters.record(r, e.code(), e.getMessage()));
            covered.add(new Pending(r, null));
            return;
        }
        int home = TaskId.home(task, partitions);
        if (home != r.partition()) {
            // Another partitioner (librdkafka's CRC32, an explicit partition) put it elsewhere: move it
            // to the task's owner, as Kafka Streams repartitions by key.
            metrics.forwarded.increment();
            writes.add(DeadLetters.forward(r, home));
            covered.add(item);
            return;
        }
        boolean fresh = board.offer(task, item, () -> {
            if (!item.deletes()) {
                writer.inform(TrainingEvents.of(task, TrainingEvents.QUEUED, settings.instanceId())
                        .put("partition", r.partition()).put("offset", r.offset())
                        .put("demonstrations", item.batch().demonstrations().size()));
            }
        });
        if (!fresh) {
            ledger.accounted(tp, r.offset()); // a replay of a record whose outcome is already committed
            metrics.replayed.increment();
        }
    }

    /** Pauses fetching while too many records wait for their outcome; polling goes on, so the group keeps us. */
    private void backpressure() {
        int outstanding = ledger.outstanding();
        if (outstanding > settings.maxInFlight()) {
            if (!paused) {
                LOG.infof("Trainer %s: %d batches wait for training; pausing the consumer", settings.instanceId(), outstanding);
            }
            paused = true;
            consumer.pause(consumer.assignment());
        } else if (paused && outstanding <= settings.maxInFlight() / 2) {
            paused = false;
            consumer.resume(consumer.paused());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            group.set(consumer.groupMetadata());
            if (assigned.isEmpty()) {
                return;
            }
            ledger.assigned(assigned);
            // The committed offsets are stable only once a previous owner's open transaction resolved
            // (read_committed consumers fetch them with require_stable): after this, its outcomes are
            // visible or gone, and the states read next include them.
            for (TopicPartition tp : assigned) {
                consumer.position(tp, READ_TIMEOUT);
            }
            Set<Integer> numbers = assigned.stream().map(TopicPartition::partition).collect(Collectors.toSet());
            Map<String, TaskState> states = new HashMap<>();
            CompactedTopics.readLatest(settings.kafka(), "trainer", Topics.TRAINER_STATE, READ_TIMEOUT).forEach((task, bytes) -> {
                if (bytes == null || !numbers.contains(TaskId.home(task, partitions))) {
                    return;
                }
                try {
                    states.put(task, TaskState.fromJson(bytes));
                } catch (IllegalArgumentException e) {
                    LOG.warnf("Ignoring the unreadable state of task %s: %s", task, e.getMessage());
                }
            });
            Map<String, Intervention> artifacts = new HashMap<>();
            CompactedTopics.readLatest(settings.kafka(), "trainer", Topics.INTERVENTIONS, READ_TIMEOUT).forEach((task, bytes) -> {
                if (bytes == null || !numbers.contains(TaskId.home(task, partitions))) {
                    return;
                }
                try {
                    Intervention iv = Artifacts.decode(bytes, Topics.INTERVENTIONS + "/" + task);
                    Artifacts.requireCompatible(iv, lm);
                    artifacts.put(task, iv);
                } catch (ModelFormatException | IllegalArgumentException e) {
                    LOG.debugf("Task %s's artifact does not fit this model; training it starts afresh: %s", task,
                            e.getMessage());
                }
            });
            board.load(states, artifacts);
            assignments.incrementAndGet();
            LOG.infof("Trainer %s now owns %s (%d task states)", settings.instanceId(), assigned, states.size());
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            group.set(consumer.groupMetadata());
            if (revoked.isEmpty()) {
                return;
            }
            // A training of a task leaving commits its outcome first; then the offsets of replays.
            release(revoked);
            try {
                commit(List.of(), List.of(), Set.of(), () -> true);
            } catch (RuntimeException e) {
                LOG.warnf("Could not commit %s on revocation (they will be replayed and skipped): %s", revoked, e.getMessage());
            }
            ledger.release(revoked);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            if (lost.isEmpty()) {
                return;
            }
            // Nothing can be committed for them any more: the worker drops their outcomes.
            ledger.release(lost);
            release(lost);
        }

        private void release(Collection<TopicPartition> partitions) {
            try {
                board.release(partitions.stream().map(TopicPartition::partition).collect(Collectors.toSet()), stopping);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
