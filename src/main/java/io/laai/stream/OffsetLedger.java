package io.laai.stream;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.common.TopicPartition;

/**
 * Which consumed offsets have their outcome on Kafka ("accounted for"), per partition, and so how
 * far each partition may be committed: past the longest accounted-for prefix, never past a
 * batch still waiting or training. Thread-safe; plain Java, no client.
 */
final class OffsetLedger {

    // Per partition: every offset received and not yet committed past → accounted for.
    private final Map<TopicPartition, TreeMap<Long, Boolean>> received = new HashMap<>();
    // Per partition: the offset committed last (the next one to read).
    private final Map<TopicPartition, Long> committed = new HashMap<>();

    synchronized void received(TopicPartition tp, long offset) {
        received.computeIfAbsent(tp, k -> new TreeMap<>()).put(offset, false);
    }

    /** Marks an offset accounted for; offsets of partitions given up are ignored. */
    synchronized void accounted(TopicPartition tp, long offset) {
        TreeMap<Long, Boolean> offsets = received.get(tp);
        if (offsets != null && offsets.containsKey(offset)) {
            offsets.put(offset, true);
        }
    }

    /** Takes back marks whose outcome was not committed after all (an aborted transaction). */
    synchronized void retract(TopicPartition tp, long offset) {
        TreeMap<Long, Boolean> offsets = received.get(tp);
        if (offsets != null && offsets.containsKey(offset)) {
            offsets.put(offset, false);
        }
    }

    /** Per partition, the next offset to commit where it moved past what was committed last. */
    synchronized Map<TopicPartition, Long> committable() {
        Map<TopicPartition, Long> out = new HashMap<>();
        received.forEach((tp, offsets) -> {
            long next = -1;
            for (Map.Entry<Long, Boolean> e : offsets.entrySet()) {
                if (!e.getValue()) {
                    break;
                }
                next = e.getKey() + 1;
            }
            if (next > committed.getOrDefault(tp, -1L)) {
                out.put(tp, next);
            }
        });
        return out;
    }

    /** Records a successful commit: the offsets below it are forgotten. */
    synchronized void committed(Map<TopicPartition, Long> offsets) {
        offsets.forEach((tp, next) -> {
            TreeMap<Long, Boolean> o = received.get(tp);
            if (o != null) {
                o.headMap(next).clear();
                committed.merge(tp, next, Math::max);
            }
        });
    }

    /**
     * An offset that may be committed for the partition without moving it (the last commit, or the
     * first offset received since): what a transaction that must be fenced sends when its prefix
     * did not advance. Null when the partition is not owned.
     */
    synchronized Long unchanged(TopicPartition tp) {
        TreeMap<Long, Boolean> offsets = received.get(tp);
        if (offsets == null) {
            return null;
        }
        Long last = committed.get(tp);
        return last != null ? last : offsets.isEmpty() ? null : offsets.firstKey();
    }

    /** Batches received and not yet committed, over every partition: what back-pressure counts. */
    synchronized int outstanding() {
        return received.values().stream().mapToInt(Map::size).sum();
    }

    synchronized boolean owns(TopicPartition tp) {
        return received.containsKey(tp);
    }

    /** Starts tracking a partition just assigned (nothing received yet). */
    synchronized void assigned(Collection<TopicPartition> partitions) {
        partitions.forEach(tp -> received.computeIfAbsent(tp, k -> new TreeMap<>()));
    }

    /** Forgets partitions given up; the next owner replays what was not committed. */
    synchronized void release(Collection<TopicPartition> partitions) {
        partitions.forEach(tp -> {
            received.remove(tp);
            committed.remove(tp);
        });
    }
}
