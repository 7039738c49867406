package io.laai.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.laai.train.Demonstration;

/** Validation codes, windows and task state: what the trainer decides before any training. */
class DemonstrationBatchTest {

    static final DemonstrationBatch.Limits LIMITS = new DemonstrationBatch.Limits(2, 20, 400);

    static String refusal(String key, String value) {
        DemonstrationBatch.Invalid e = assertThrows(DemonstrationBatch.Invalid.class,
                () -> DemonstrationBatch.parse(key, value == null ? null : value.getBytes(StandardCharsets.UTF_8), LIMITS));
        assertTrue(!e.getMessage().isBlank());
        return e.code() + ": " + e.getMessage();
    }

    @Test
    void eachMalformedBatchGetsItsCodeAndAReasonNamingTheField() {
        String ok = "[{\"prompt\": \"a\", \"completion\": \" b\"}]";
        assertTrue(refusal("t", "{\"task\": \"t\", ").startsWith("invalid-json: not valid JSON"));
        assertTrue(refusal("t", null).startsWith("invalid-batch: the record has no value"));
        assertTrue(refusal(null, "{\"demonstrations\": " + ok + "}").startsWith("key-mismatch: the record has no key"));
        assertTrue(refusal("t", "{\"task\": \"u\", \"demonstrations\": " + ok + "}").startsWith("key-mismatch: task 'u'"));
        assertTrue(refusal("t", "{\"task\": \"t\"}").startsWith("invalid-batch: demonstrations must be"));
        assertTrue(refusal("t", "[1]").startsWith("invalid-batch: a demonstration batch must be a JSON object"));
        assertTrue(refusal("t", "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \"\"}]}").contains("empty completion"));
        assertTrue(refusal("t", "{\"demonstrations\": [{\"prompt\": \"a\"}]}").startsWith("invalid-batch: demonstrations"));
        assertTrue(refusal("t", "{\"demonstrations\": [{\"prompt\": \"" + "x".repeat(21) + "\", \"completion\": \" b\"}]}")
                .startsWith("oversize: demonstrations[0] has a field over 20"));
        String three = "[" + String.join(",", java.util.Collections.nCopies(3, "{\"prompt\": \"a\", \"completion\": \" b\"}")) + "]";
        assertTrue(refusal("t", "{\"demonstrations\": " + three + "}").startsWith("oversize: demonstrations has 3 entries"));
        assertTrue(refusal("t", "{\"demonstrations\": " + ok + ", \"pad\": \"" + "x".repeat(400) + "\"}")
                .startsWith("oversize: the batch is"));
        assertTrue(refusal("t", "{\"demonstrations\": " + ok + ", \"mode\": \"merge\"}").contains("mode 'merge'"));
        assertTrue(refusal("t", "{\"demonstrations\": " + ok + ", \"config\": {\"stepz\": 1}}").contains("stepz"));
        assertTrue(refusal("bad id", "{\"demonstrations\": " + ok + "}").contains("must be 1-128"));
        assertTrue(refusal("base", "{\"demonstrations\": " + ok + "}").contains("'base' is reserved"));
        assertEquals(TaskId.home("boy-named-max", 3), org.apache.kafka.common.utils.Utils.toPositive(
                org.apache.kafka.common.utils.Utils.murmur2("boy-named-max".getBytes(StandardCharsets.UTF_8))) % 3,
                "a task's partition is the Java client's");
        DemonstrationBatch b = DemonstrationBatch.parse("t",
                ("{\"demonstrations\": " + ok + ", \"model_fingerprint\": \"sha256:x\"}").getBytes(StandardCharsets.UTF_8), LIMITS);
        DemonstrationBatch.Invalid e = assertThrows(DemonstrationBatch.Invalid.class, () -> b.requireFingerprint("sha256:y"));
        assertEquals("fingerprint-mismatch", e.code());
        b.requireFingerprint("sha256:x");
    }

    @Test
    void settingsOverTheServerMaximaAndUnknownFieldsAreRefusedByName() {
        var limits = new DemonstrationBatch.Limits(8, 200, 10_000, 1000, 200);
        String demos = "\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}]";
        for (String[] c : new String[][] {{"\"config\": {\"steps\": \"100000\", \"patience\": \"100000\"}", "laai.trainer.max-steps"},
            {"\"config\": {\"patience\": 100000}", "laai.trainer.max-patience"},
            {"\"config\": {\"steps\": {\"n\": 1}}", "config.steps"},
            {"\"demonstration\": []", "unknown field"}, {"\"allow_unvalidated\": \"yes\"", "allow_unvalidated"}}) {
            DemonstrationBatch.Invalid e = assertThrows(DemonstrationBatch.Invalid.class, () -> DemonstrationBatch.parse("t",
                    ("{" + demos + ", " + c[0] + "}").getBytes(StandardCharsets.UTF_8), limits));
            assertEquals(DemonstrationBatch.Invalid.INVALID_BATCH, e.code());
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
        DemonstrationBatch ok = DemonstrationBatch.parse("t", ("{" + demos + ", \"allow_unvalidated\": true, \"config\": {\"steps\": 1000}}")
                .getBytes(StandardCharsets.UTF_8), limits);
        assertTrue(ok.allowUnvalidated());
        assertTrue(DemonstrationBatch.parse("t", ok.toJson(), limits).allowUnvalidated(), "survives the round trip");
    }

    @Test
    void appendKeepsTheNewestDemonstrationsAndReplaceStartsOver() {
        List<Demonstration> window = List.of();
        for (int i = 0; i < 5; i++) {
            window = TaskState.window(window, batch("append", "p" + i), 3);
        }
        assertEquals(List.of("p2", "p3", "p4"), window.stream().map(Demonstration::prompt).toList());
        window = TaskState.window(window, batch("replace", "q"), 3);
        assertEquals(List.of("q"), window.stream().map(Demonstration::prompt).toList());
    }

    @Test
    void taskStateRoundTripsThroughItsJson() {
        TaskState s = new TaskState("t", 7, List.of(new Demonstration("a \"quoted\" prompt", " b")), Map.of("steps", "5"), 2,
                41, "published");
        assertEquals(s, TaskState.fromJson(s.toJson()));
        assertTrue(s.covers(2, 41) && s.covers(2, 3));
        assertTrue(!s.covers(2, 42) && !s.covers(1, 3));
        assertThrows(IllegalArgumentException.class, () -> TaskState.fromJson("{\"window\": []}".getBytes(StandardCharsets.UTF_8)));
        // Attempts count trainings of overlapping batches; a later, disjoint training starts over.
        TaskState once = s.attempting(2, 42, 44);
        TaskState twice = once.attempting(2, 42, 45);
        assertEquals(1, once.attempts());
        assertEquals(2, twice.attempts());
        assertEquals(45, twice.attemptOffset());
        assertEquals(twice, TaskState.fromJson(twice.toJson()));
        assertEquals(1, twice.attempting(2, 46, 47).attempts());
        assertEquals(3, TaskState.initial("new").attempting(3, 0, 0).partition(), "a new task's attempt names its partition");
        assertEquals(41, twice.offset(), "an attempt covers nothing yet");
    }

    @Test
    void chatDemonstrationsKeepTheirMessagesThroughTheTopicAndTheTaskState() {
        String value = "{\"demonstrations\": [{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
                + " {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"A pet?\"}]}],"
                + " \"completion\": \" dog\"}, {\"prompt\": \"a\", \"completion\": \" b\"}]}";
        DemonstrationBatch b = DemonstrationBatch.parse("t", value.getBytes(StandardCharsets.UTF_8), LIMITS);
        Demonstration chat = b.demonstrations().get(0);
        assertTrue(chat.isChat());
        assertEquals(null, chat.prompt(), "rendered by the trainer's template, not here");
        assertEquals(List.of(Map.of("role", "system", "content", "Be brief."), Map.of("role", "user", "content", "A pet?")),
                chat.messages(), "content parts become the text a template reads");
        assertEquals(b, DemonstrationBatch.parse("t", b.toJson(), LIMITS), "what the edge produces, the trainer reads");
        TaskState state = new TaskState("t", 1, b.demonstrations(), Map.of(), 0, 5, "published");
        assertEquals(b.demonstrations(), TaskState.fromJson(state.toJson()).window());

        String ok = "\"completion\": \" b\"}]}";
        assertTrue(refusal("t", "{\"demonstrations\": [{\"prompt\": \"a\", \"messages\": [], " + ok)
                .contains("demonstrations[0]: has both prompt and messages"));
        assertTrue(refusal("t", "{\"demonstrations\": [{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}], " + ok)
                .contains("demonstrations[0]: messages[0].role must be system, developer, user, assistant or tool, was a string"));
        assertTrue(refusal("t", "{\"demonstrations\": [{\"messages\": [{\"role\": \"user\"}], " + ok)
                .contains("messages[0].content is required"));
        assertTrue(refusal("t", "{\"demonstrations\": [{\"messages\": [{\"role\": \"user\", \"content\": \""
                + "x".repeat(21) + "\"}], " + ok).startsWith("oversize: demonstrations[0] has a field over 20"));
    }

    static DemonstrationBatch batch(String mode, String prompt) {
        return new DemonstrationBatch("t", List.of(new Demonstration(prompt, " x")), mode, null, Map.of());
    }
}
