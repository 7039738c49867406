package io.laai.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** Reads a key-per-entity topic (laai.interventions, laai.trainer-state) as a table: the newest value per key. */
public final class CompactedTopics {

    private CompactedTopics() {
    }

    /**
     * Every key's newest committed value, reading from the beginning past every record written
     * before the call (read_committed: records of transactions that were open then count once they
     * resolve, so a state committed behind another instance's open transaction is not missed). A
     * key whose newest record is a tombstone maps to null. No consumer group is used.
     */
    public static Map<String, byte[]> readLatest(KafkaClients clients, String role, String topic, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, byte[]> latest = new HashMap<>();
        Map<TopicPartition, Long> written;
        try (KafkaConsumer<String, byte[]> probe = clients.consumer(role, Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"))) {
            var infos = probe.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                return latest; // not created yet: an empty table
            }
            written = probe.endOffsets(infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList(), timeout);
        }
        try (KafkaConsumer<String, byte[]> consumer = clients.consumer(role, Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000"))) {
            List<TopicPartition> partitions = List.copyOf(written.keySet());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (written.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new KafkaPublisher.KafkaUnavailable("could not read " + topic + " to its end within " + timeout
                            + " (a transaction still open?)");
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() != null) {
                        latest.put(r.key(), r.value());
                    }
                }
            }
        }
        return latest;
    }
}
