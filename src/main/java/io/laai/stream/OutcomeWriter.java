package io.laai.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.contract.DeadLetters;
import io.laai.contract.TrainingEvents;
import io.laai.intervention.Artifacts;
import io.laai.kafka.KafkaClients;
import io.laai.kafka.KafkaPublisher;
import io.laai.kafka.Topics;

/**
 * Writes outcomes to Kafka, each in one transaction with the consumed offsets it accounts for
 * (sendOffsetsToTransaction with the consumer's group metadata, so a trainer that lost its
 * partitions, a zombie, commits nothing). Readers with read_committed see an outcome and its
 * offsets together or not at all. Informational events (queued, started, progress) go through a
 * second, idempotent producer outside transactions, flushed before each commit so that they come
 * before the outcome they lead to.
 */
final class OutcomeWriter implements AutoCloseable {

    /** The transaction was aborted and nothing of it is visible; the caller may retry. */
    static final class Aborted extends RuntimeException {
        Aborted(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Logger LOG = Logger.getLogger(OutcomeWriter.class);

    private final KafkaProducer<String, byte[]> transactional;
    private final KafkaProducer<String, byte[]> informational;
    private final OffsetLedger ledger;
    private final Supplier<ConsumerGroupMetadata> group;
    private final TrainerMetrics metrics;
    private volatile java.util.function.Consumer<List<ProducerRecord<String, byte[]>>> beforeCommit = records -> { };

    OutcomeWriter(KafkaClients clients, String instanceId, Duration transactionTimeout, OffsetLedger ledger,
            Supplier<ConsumerGroupMetadata> group, TrainerMetrics metrics) {
        this.ledger = ledger;
        this.group = group;
        this.metrics = metrics;
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.CLIENT_ID_CONFIG, instanceId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_STATE_BYTES));
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        Map<String, Object> tx = new HashMap<>(p);
        // One transactional id per instance: a restart under the same id (static membership) fences
        // the old producer and aborts what it left open at once; otherwise the broker aborts it after
        // the transaction timeout.
        tx.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, instanceId);
        tx.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, Long.toString(transactionTimeout.toMillis()));
        this.transactional = clients.producer("trainer", tx);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, instanceId + "-events");
        this.informational = clients.producer("trainer", p);
        try {
            transactional.initTransactions();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Tests: runs inside each transaction, once its records are on the broker and its offsets sent, before it commits. */
    void beforeCommit(java.util.function.Consumer<List<ProducerRecord<String, byte[]>>> hook) {
        this.beforeCommit = hook;
    }

    /** Fire and forget: events that inform (queued, started, progress); a lost one is logged. */
    void inform(ObjectNode event) {
        informational.send(TrainingEvents.record(event), (m, e) -> {
            if (e != null) {
                LOG.warnf("Could not publish a training event for %s: %s", event.path("task").asText(), e.getMessage());
            }
        });
    }

    /** The records an outcome writes: artifact or tombstone, dead letters, state, event. */
    static List<ProducerRecord<String, byte[]>> records(TrainingRound.Outcome o) {
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
        if (o.artifact() != null) {
            out.add(KafkaPublisher.record(Topics.INTERVENTIONS, o.task(), Artifacts.encode(o.artifact()),
                    Artifacts.headers(o.artifact())));
        }
        if (o.deletesArtifact()) {
            out.add(KafkaPublisher.record(Topics.INTERVENTIONS, o.task(), null, Map.of()));
        }
        for (TrainingRound.DeadLetter d : o.deadLetters()) {
            ProducerRecord<String, byte[]> r = DeadLetters.record(d.item().record(), d.code(), d.reason());
            d.headers().forEach((k, v) -> r.headers().add(k, v.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            out.add(r);
        }
        if (o.state() != null) {
            out.add(KafkaPublisher.record(Topics.TRAINER_STATE, o.task(), o.state().toJson(),
                    Map.of("content-type", "application/json")));
        }
        if (o.event() != null) {
            out.add(TrainingEvents.record(o.event()));
        }
        return out;
    }

    /**
     * Commits the records and the offsets of every partition's accounted-for prefix (the covered
     * items included) in one transaction. The {@code fence} partitions (those the outcome is
     * about) are always among the offsets sent, unchanged if their prefix did not move, so the
     * group coordinator refuses the transaction of a trainer that no longer owns them. Throws
     * {@link Aborted} when the transaction was aborted, or not begun because a fence partition is
     * no longer owned (the covered items are then not accounted for); any other exception leaves
     * the producer unusable (fenced, not authorised), and the pipeline stops.
     */
    synchronized void commit(List<ProducerRecord<String, byte[]>> records, List<Pending> covered,
            java.util.Collection<TopicPartition> fence) {
        covered.forEach(p -> ledger.accounted(p.topicPartition(), p.offset()));
        Map<TopicPartition, Long> offsets = ledger.committable();
        if (records.isEmpty() && offsets.isEmpty()) {
            return;
        }
        Map<TopicPartition, Long> send = new HashMap<>(offsets);
        for (TopicPartition tp : fence) {
            if (!send.containsKey(tp)) {
                Long unchanged = ledger.unchanged(tp);
                if (unchanged == null) {
                    covered.forEach(p -> ledger.retract(p.topicPartition(), p.offset()));
                    throw new Aborted(tp + " is no longer owned", null);
                }
                send.put(tp, unchanged);
            }
        }
        informational.flush();
        try {
            transactional.beginTransaction();
            for (ProducerRecord<String, byte[]> r : records) {
                transactional.send(r);
            }
            if (!send.isEmpty()) {
                Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
                send.forEach((tp, next) -> commit.put(tp, new OffsetAndMetadata(next)));
                transactional.sendOffsetsToTransaction(commit, group.get());
            }
            transactional.flush(); // commitTransaction flushes anyway; here the hook sees the records on the broker
            beforeCommit.accept(records);
            transactional.commitTransaction();
            ledger.committed(offsets);
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException
                | UnsupportedVersionException e) {
            covered.forEach(p -> ledger.retract(p.topicPartition(), p.offset()));
            throw e;
        } catch (KafkaException e) {
            covered.forEach(p -> ledger.retract(p.topicPartition(), p.offset()));
            metrics.aborted.increment();
            try {
                transactional.abortTransaction();
            } catch (KafkaException abort) {
                e.addSuppressed(abort);
                throw e; // the producer cannot abort: it is unusable
            }
            throw new Aborted("the transaction was aborted: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            informational.close(Duration.ofSeconds(5));
        } finally {
            transactional.close(Duration.ofSeconds(5));
        }
    }
}
