package io.laai.contract;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import org.apache.kafka.common.utils.Utils;

/**
 * The task id rule, the same everywhere a task is named (batches, record keys, artifacts, the
 * REST paths, the CLI), and the partition a task belongs to.
 */
public final class TaskId {

    /** 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit. */
    public static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    /** The name a request uses for "no intervention" (OpenAI's model field, compositions). */
    public static final String BASE = "base";

    private TaskId() {
    }

    /** Null when the id is acceptable, else why not (a sentence naming the id). */
    public static String problem(String task) {
        if (task == null || !PATTERN.matcher(task).matches()) {
            return "task '" + task + "' must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit";
        }
        if (task.equals(BASE)) {
            return "task 'base' is reserved: it names the model without any intervention";
        }
        return null;
    }

    /** The id itself, or IllegalArgumentException naming the problem. */
    public static String require(String task) {
        String problem = problem(task);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return task;
    }

    /**
     * The partition of laai.demonstrations that owns the task: murmur2 of the UTF-8 key, as the
     * Java client's default partitioner computes it. Batches that arrive elsewhere are forwarded here.
     */
    public static int home(String task, int partitions) {
        return Utils.toPositive(Utils.murmur2(task.getBytes(StandardCharsets.UTF_8))) % partitions;
    }
}
