package io.laai.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.contract.DeadLetters;
import io.laai.contract.DemonstrationBatch;
import io.laai.contract.TaskState;
import io.laai.model.LanguageModel;
import io.laai.train.TrainConfig;
import io.laai.train.Trainer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The training round on the real stories260K, with no broker: what it decides for each item, in order. */
class TrainingRoundTest {

    static final String FAST = "\"config\": {\"steps\": \"3\", \"validation\": \"none\", \"layers\": \"1\"}";
    static LanguageModel lm;

    @BeforeAll
    static void load() {
        lm = LanguageModel.load(SharedData.stories260K(), Device.cpu());
    }

    @AfterAll
    static void unload() {
        if (lm != null) {
            lm.close();
        }
    }

    static Pending batch(String task, long offset, String prompt) {
        String json = "{\"task\": \"" + task + "\", \"demonstrations\": [{\"prompt\": \"" + prompt
                + "\", \"completion\": \" Max\"}], " + FAST + "}";
        ConsumerRecord<String, byte[]> r = new ConsumerRecord<>("laai.demonstrations", 0, offset, task,
                json.getBytes(StandardCharsets.UTF_8));
        return new Pending(r, DemonstrationBatch.parse(task, r.value(), DemonstrationBatch.Limits.DEFAULTS));
    }

    static Pending tombstone(String task, long offset) {
        return new Pending(new ConsumerRecord<>("laai.demonstrations", 0, offset, task, null), null);
    }

    /** Collects what the round commits and informs. */
    static final class Recorder implements TrainingRound.Sink {
        final List<TrainingRound.Outcome> outcomes = new ArrayList<>();
        final List<String> events = new ArrayList<>();

        @Override
        public void commit(TrainingRound.Outcome o) {
            outcomes.add(o);
            if (o.event() != null) {
                events.add(o.event().path("event").asText());
            }
        }

        @Override
        public void inform(ObjectNode event) {
            events.add(event.path("event").asText());
        }
    }

    TrainingRound round(int maxAttempts) {
        TrainerPipeline.Settings s = new TrainerPipeline.Settings("localhost:1", "g", "round", 16,
                DemonstrationBatch.Limits.DEFAULTS, TrainConfig.DEFAULTS, true, 1, 100, 4).withAttempts(maxAttempts, false);
        return new TrainingRound(new Trainer(lm), s, new TrainerMetrics(new SimpleMeterRegistry()), (t, step) -> { },
                () -> false);
    }

    @Test
    void aTombstoneDropsTheBatchesBeforeItAndTheNextVersionTrainsOnlyWhatFollows() {
        TaskState before = new TaskState("t", 3, List.of(new io.laai.train.Demonstration("old", " x")), Map.of("steps", "3"),
                0, 9, "published");
        Recorder sink = new Recorder();
        round(2).run(List.of(new TaskBoard.Taken(new TaskBoard.Snapshot("t", 0, before, null),
                List.of(batch("t", 10, "dropped"), tombstone("t", 11), batch("t", 12, "The boy was named")))), sink);
        TrainingRound.Outcome deleted = sink.outcomes.get(0);
        assertTrue(deleted.deletesArtifact());
        assertEquals(List.of(10L, 11L), deleted.covered().stream().map(Pending::offset).toList());
        assertTrue(deleted.state().window().isEmpty());
        assertEquals(Map.of(), deleted.state().config());
        assertEquals(3, deleted.state().version(), "the count goes on");
        TrainingRound.Outcome marker = sink.outcomes.get(1);
        assertEquals(1, marker.state().attempts(), "the attempt is recorded before training");
        assertTrue(marker.covered().isEmpty());
        TrainingRound.Outcome published = sink.outcomes.get(2);
        assertNotNull(published.artifact());
        assertEquals(4, published.artifact().version());
        assertEquals(List.of("The boy was named"), published.state().window().stream().map(d -> d.prompt()).toList());
        assertEquals(0, published.state().attempts());
        assertEquals(List.of(12L), published.covered().stream().map(Pending::offset).toList());
        assertEquals(List.of("deleted", "started", "published"), sink.events.stream().filter(e -> !e.equals("progress")).toList());
    }

    @Test
    void aBatchThatCrashedTheProcessMaxAttemptsTimesIsDeadLetteredAndTheRestTrains() {
        TaskState crashing = new TaskState("p", 0, List.of(), Map.of(), 0, -1, "none").attempting(0, 4, 5)
                .attempting(0, 4, 5);
        assertEquals(2, crashing.attempts());
        Recorder sink = new Recorder();
        round(2).run(List.of(new TaskBoard.Taken(new TaskBoard.Snapshot("p", 0, crashing, null),
                List.of(batch("p", 4, "a"), batch("p", 5, "b"), batch("p", 6, "The boy was named")))), sink);
        TrainingRound.Outcome crashed = sink.outcomes.get(0);
        assertEquals(2, crashed.deadLetters().size());
        assertEquals(DeadLetters.TRAINING_CRASHED, crashed.deadLetters().get(0).code());
        assertEquals("2", crashed.deadLetters().get(0).headers().get(DeadLetters.ATTEMPTS));
        assertNull(crashed.artifact());
        TrainingRound.Outcome published = sink.outcomes.get(sink.outcomes.size() - 1);
        assertEquals(1, published.artifact().version());
        assertEquals(List.of(6L), published.covered().stream().map(Pending::offset).toList());
        assertEquals(1, published.state().window().size(), "the poison batches never joined the window");
    }
}
