package io.laai.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import io.laai.contract.DemonstrationBatch;
import io.laai.contract.TaskState;

class TaskBoardTest {

    static Pending item(String task, int partition, long offset) {
        String json = "{\"task\": \"" + task + "\", \"demonstrations\": [{\"prompt\": \"p" + offset + "\", \"completion\": \" c\"}]}";
        ConsumerRecord<String, byte[]> r = new ConsumerRecord<>("laai.demonstrations", partition, offset, task,
                json.getBytes(StandardCharsets.UTF_8));
        return new Pending(r, DemonstrationBatch.parse(task, r.value(), DemonstrationBatch.Limits.DEFAULTS));
    }

    @Test
    void batchesArrivingWhileATaskTrainsCoalesceIntoItsNextTake() throws Exception {
        TaskBoard board = new TaskBoard(t -> 0);
        List<String> accepted = new ArrayList<>();
        assertTrue(board.offer("a", item("a", 0, 0), () -> accepted.add("a@0")));
        List<TaskBoard.Taken> first = board.take(4, () -> false);
        assertEquals(1, first.size());
        assertEquals(1, first.get(0).items().size());
        board.offer("a", item("a", 0, 2), () -> accepted.add("a@2"));
        board.offer("a", item("a", 0, 1), () -> accepted.add("a@1"));
        // Training: not ready again until done.
        CompletableFuture<List<TaskBoard.Taken>> next = CompletableFuture.supplyAsync(() -> {
            try {
                return board.take(4, () -> false);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        assertFalse(next.isDone(), "a training task is not taken twice");
        board.done(first);
        List<TaskBoard.Taken> second = next.get(5, TimeUnit.SECONDS);
        assertEquals(List.of(1L, 2L), second.get(0).items().stream().map(Pending::offset).toList(), "oldest first");
        assertEquals(List.of("a@0", "a@2", "a@1"), accepted);
    }

    @Test
    void anItemTheStateCoversIsAReplay() throws Exception {
        TaskBoard board = new TaskBoard(t -> 1);
        board.load(Map.of("a", new TaskState("a", 3, List.of(), Map.of(), 1, 7, "published")), Map.of());
        assertFalse(board.offer("a", item("a", 1, 7), () -> { }), "offset 7 is in the state");
        assertTrue(board.offer("a", item("a", 1, 8), () -> { }));
        assertEquals(3, board.take(1, () -> false).get(0).task().state().version());
    }

    @Test
    void snapshotsAreSwappedNotMutated() throws Exception {
        TaskBoard board = new TaskBoard(t -> 0);
        board.offer("a", item("a", 0, 0), () -> { });
        TaskBoard.Snapshot before = board.take(1, () -> false).get(0).task();
        TaskState after = new TaskState("a", 1, List.of(), Map.of(), 0, 0, "published");
        board.update("a", after, null);
        assertEquals(0, before.state().version(), "what the worker holds does not change under it");
        assertEquals(1, board.snapshot("a").state().version());
    }

    @Test
    void releasingAPartitionDropsWaitingItemsAndWaitsForATrainingOne() throws Exception {
        TaskBoard board = new TaskBoard(t -> t.equals("a") ? 0 : 1);
        board.offer("a", item("a", 0, 0), () -> { });
        board.offer("b", item("b", 1, 0), () -> { });
        List<TaskBoard.Taken> training = board.take(1, () -> false); // a trains
        assertEquals("a", training.get(0).task().task());
        CompletableFuture<Void> release = CompletableFuture.runAsync(() -> {
            try {
                board.release(Set.of(0, 1), () -> false);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        assertFalse(release.isDone(), "waits for a's outcome");
        board.done(training);
        release.get(5, TimeUnit.SECONDS);
        assertEquals(0, board.size());
        assertTrue(board.take(1, () -> true).isEmpty(), "b's waiting batch was dropped");
    }
}
