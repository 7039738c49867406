package io.laai.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The service's one idempotent producer for records the REST API publishes (demonstration
 * batches, tombstones). A send returns once the record is acknowledged by all in-sync replicas.
 */
@ApplicationScoped
public class KafkaPublisher {

    /** Where an acknowledged record landed. */
    public record Placement(String topic, int partition, long offset) {
    }

    @jakarta.inject.Inject
    KafkaClients clients;

    @jakarta.inject.Inject
    io.laai.Lifecycle lifecycle;

    private KafkaProducer<String, byte[]> producer;

    private synchronized KafkaProducer<String, byte[]> producer() {
        if (producer == null) {
            Map<String, Object> p = new java.util.HashMap<>();
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "laai-api");
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
            producer = clients.producer("edge", p);
            lifecycle.opened("the API's Kafka producer", this::close);
        }
        return producer;
    }

    /** Sends and waits for the acknowledgement; value null is a tombstone. */
    public Placement send(String topic, String key, byte[] value, Map<String, String> headers) {
        RecordMetadata m = sendAndWait(producer(), record(topic, key, value, headers), Duration.ofSeconds(45));
        return new Placement(m.topic(), m.partition(), m.offset());
    }

    /** A record with string headers (UTF-8); value null is a tombstone. */
    public static ProducerRecord<String, byte[]> record(String topic, String key, byte[] value, Map<String, String> headers) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key, value);
        headers.forEach((k, v) -> record.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        return record;
    }

    /** Sends and waits for the acknowledgement; a refusal or no answer within the timeout is {@link KafkaUnavailable}. */
    public static RecordMetadata sendAndWait(Producer<String, byte[]> producer, ProducerRecord<String, byte[]> record,
            Duration timeout) {
        try {
            return producer.send(record).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing to " + record.topic(), e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new KafkaUnavailable("Kafka did not acknowledge the record on " + record.topic() + ": " + cause.getMessage());
        }
    }

    synchronized void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
            producer = null;
        }
    }

    /** Kafka could not take the record; the caller may retry. */
    public static final class KafkaUnavailable extends RuntimeException {
        public KafkaUnavailable(String message) {
            super(message);
        }
    }
}
