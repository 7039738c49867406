package io.laai.stream;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

import io.laai.contract.DemonstrationBatch;

/** A record of laai.demonstrations waiting for its outcome: a valid batch, or (batch null) a tombstone deleting the task. */
record Pending(ConsumerRecord<String, byte[]> record, DemonstrationBatch batch) {

    long offset() {
        return record.offset();
    }

    int partition() {
        return record.partition();
    }

    TopicPartition topicPartition() {
        return new TopicPartition(record.topic(), record.partition());
    }

    boolean deletes() {
        return batch == null;
    }
}
