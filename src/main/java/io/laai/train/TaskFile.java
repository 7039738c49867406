package io.laai.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The JSONL files of README: task files (task, train, test; and compose, test: prompts two of
 * its tasks both apply to) and demonstration files (prompt and completion, or messages and
 * completion).
 */
public final class TaskFile {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One task of a task file. */
    public record Task(String task, List<Demonstration> train, List<Demonstration> test) {
    }

    /** Test items of a task file for two of its tasks applied together: prompts both tasks apply to. */
    public record Joint(List<String> tasks, List<Demonstration> test) {
        public boolean pairs(String a, String b) {
            return java.util.Set.copyOf(tasks).equals(java.util.Set.of(a, b));
        }
    }

    private TaskFile() {
    }

    public static List<Task> readTasks(Path file) {
        List<Task> tasks = new ArrayList<>();
        forEachLine(file, (node, where) -> {
            if (node.has("compose")) {
                return;
            }
            String task = node.path("task").asText("");
            String problem = io.laai.contract.TaskId.problem(task);
            if (problem != null) {
                throw new IllegalArgumentException(where + ": " + problem);
            }
            List<Demonstration> train = demos(node.get("train"), where + " train");
            if (train.isEmpty()) {
                throw new IllegalArgumentException(where + ": task " + task + " has no train demonstrations");
            }
            tasks.add(new Task(task, train, demos(node.get("test"), where + " test")));
        });
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException(file + ": no tasks");
        }
        return tasks;
    }

    /** The file's {"compose": [A, B], "test": [...]} lines; A and B must be among {@code names}, the file's tasks. */
    public static List<Joint> readJoint(Path file, java.util.Collection<String> names) {
        List<Joint> joint = new ArrayList<>();
        forEachLine(file, (node, where) -> {
            JsonNode c = node.get("compose");
            if (c == null) {
                return;
            }
            if (!c.isArray() || c.size() != 2 || !c.get(0).isTextual() || !c.get(1).isTextual()
                    || c.get(0).asText().equals(c.get(1).asText())) {
                throw new IllegalArgumentException(where + ": compose must name two different tasks, as [\"A\", \"B\"]");
            }
            List<String> pair = List.of(c.get(0).asText(), c.get(1).asText());
            for (String t : pair) {
                if (!names.contains(t)) {
                    throw new IllegalArgumentException(where + ": compose names " + t + ", which is not a task of this file");
                }
            }
            List<Demonstration> test = demos(node.get("test"), where + " test");
            if (test.isEmpty()) {
                throw new IllegalArgumentException(where + ": compose " + pair + " has no test items");
            }
            joint.add(new Joint(pair, test));
        });
        return joint;
    }

    public static List<Demonstration> readDemonstrations(Path file) {
        List<Demonstration> demos = new ArrayList<>();
        forEachLine(file, (node, where) -> demos.add(demo(node, where)));
        if (demos.isEmpty()) {
            throw new IllegalArgumentException(file + ": no demonstrations");
        }
        return demos;
    }

    public static List<Demonstration> demos(JsonNode array, String where) {
        List<Demonstration> out = new ArrayList<>();
        if (array == null || array.isNull()) {
            return out;
        }
        if (!array.isArray()) {
            throw new IllegalArgumentException(where + ": expected an array of {prompt, completion} or {messages, completion}");
        }
        for (int i = 0; i < array.size(); i++) {
            out.add(demo(array.get(i), where + "[" + i + "]"));
        }
        return out;
    }

    /** The most characters of one chat demonstration's messages, all contents together. */
    static final int MAX_MESSAGE_CHARS = 1 << 20;

    /** {prompt, completion}, or a chat demonstration {messages, completion}. */
    private static Demonstration demo(JsonNode node, String where) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(where + ": a demonstration is an object {prompt, completion} or"
                    + " {messages, completion}");
        }
        JsonNode p = node.get("prompt");
        JsonNode m = node.get("messages");
        JsonNode c = node.get("completion");
        if (p != null && m != null) {
            throw new IllegalArgumentException(where + ": has both prompt and messages; give one");
        }
        if ((m == null && (p == null || !p.isTextual())) || c == null || !c.isTextual()) {
            throw new IllegalArgumentException(where + ": needs string fields prompt and completion (or messages and"
                    + " completion)");
        }
        try {
            if (m != null) {
                return Demonstration.chat(io.laai.chat.ChatMessages.parse(m, "messages", MAX_MESSAGE_CHARS), c.asText());
            }
            return new Demonstration(p.asText(), c.asText());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }

    /** A demonstration as the files and topics write it: what {@link #demos} reads back. */
    public static void write(com.fasterxml.jackson.databind.node.ObjectNode out, Demonstration d) {
        if (d.isChat()) {
            out.set("messages", io.laai.chat.ChatMessages.toJson(d.messages()));
        } else {
            out.put("prompt", d.prompt());
        }
        out.put("completion", d.completion());
    }

    private interface LineHandler {
        void accept(JsonNode node, String where);
    }

    private static void forEachLine(Path file, LineHandler handler) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage());
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty()) {
                continue;
            }
            String where = file + " line " + (i + 1);
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (IOException e) {
                throw new IllegalArgumentException(where + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("")
                        + ")");
            }
            if (!node.isObject()) {
                throw new IllegalArgumentException(where + ": expected a JSON object");
            }
            handler.accept(node, where);
        }
    }
}
