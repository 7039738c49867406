package io.laai.contract;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.train.Demonstration;

/**
 * What the trainer knows of one task after an outcome: the value on the compacted
 * {@code laai.trainer-state} topic, from which a restarted trainer (or the one a rebalance hands
 * the task to) continues. {@code partition}/{@code offset} name the last demonstration batch the
 * state includes; a replayed batch at or below it has already been accounted for.
 *
 * @param version  the task's latest published version (0 when none)
 * @param window   the most recent demonstrations, oldest first, bounded by laai.trainer.window
 * @param config   training-setting overrides the task's batches have set, later ones winning
 * @param outcome  published, rejected or failed: what happened to the last batch
 * @param attempts trainings started for the batches after {@code offset} up to {@code attemptOffset}
 *                 that never reached an outcome (the process died): what stops a poison batch
 *                 from crash-looping the trainer
 */
public record TaskState(String task, long version, List<Demonstration> window, Map<String, String> config,
        int partition, long offset, String outcome, int attempts, long attemptOffset) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public TaskState {
        window = List.copyOf(window);
        config = Map.copyOf(config);
    }

    public TaskState(String task, long version, List<Demonstration> window, Map<String, String> config, int partition,
            long offset, String outcome) {
        this(task, version, window, config, partition, offset, outcome, 0, -1);
    }

    public static TaskState initial(String task) {
        return new TaskState(task, 0, List.of(), Map.of(), -1, -1, "none");
    }

    /**
     * The state recorded just before training batches of {@code batchPartition} up to
     * {@code lastOffset}: one more attempt when the attempt overlaps the previous unfinished one,
     * else the first. It names the partition even for a task with no outcome yet, so the partition's
     * next owner reads it.
     */
    public TaskState attempting(int batchPartition, long firstOffset, long lastOffset) {
        int n = attempts > 0 && firstOffset <= attemptOffset ? attempts + 1 : 1;
        return new TaskState(task, version, window, config, batchPartition, offset, outcome, n,
                Math.max(lastOffset, attemptOffset));
    }

    /** True when the batch at this position is already part of the state. */
    public boolean covers(int partition, long offset) {
        return partition == this.partition && offset <= this.offset;
    }

    /** The window after a batch: append keeps the newest {@code size}; replace starts over with the batch. */
    public static List<Demonstration> window(List<Demonstration> window, DemonstrationBatch batch, int size) {
        List<Demonstration> next = batch.replaces() ? new ArrayList<>() : new ArrayList<>(window);
        next.addAll(batch.demonstrations());
        return next.size() <= size ? next : new ArrayList<>(next.subList(next.size() - size, next.size()));
    }

    public byte[] toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("task", task).put("version", version).put("partition", partition).put("offset", offset).put("outcome", outcome);
        if (attempts > 0) {
            n.put("attempts", attempts).put("attempt_offset", attemptOffset);
        }
        ObjectNode c = n.putObject("config");
        config.forEach(c::put);
        var w = n.putArray("window");
        for (Demonstration d : window) {
            io.laai.train.TaskFile.write(w.addObject(), d);
        }
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static TaskState fromJson(byte[] bytes) {
        try {
            JsonNode n = JSON.readTree(bytes);
            List<Demonstration> window = io.laai.train.TaskFile.demos(n.get("window"), "window");
            Map<String, String> config = new LinkedHashMap<>();
            n.path("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
            if (!n.hasNonNull("task") || !n.hasNonNull("version")) {
                throw new IllegalArgumentException("a task state needs task and version");
            }
            return new TaskState(n.get("task").asText(), n.get("version").asLong(), window, config,
                    n.path("partition").asInt(-1), n.path("offset").asLong(-1), n.path("outcome").asText("none"),
                    n.path("attempts").asInt(0), n.path("attempt_offset").asLong(-1));
        } catch (IOException e) {
            throw new IllegalArgumentException("not a task state: " + e.getMessage());
        }
    }
}
