package io.laai.stream;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

import io.laai.contract.TaskState;
import io.laai.intervention.Intervention;

/**
 * The one owner of what the polling thread and the worker share: every task this trainer owns,
 * as an immutable {@link Snapshot} swapped under the board's lock, with the batches waiting for
 * it, and which tasks are ready or training. Plain Java: no client, no model.
 */
final class TaskBoard {

    /** A task as of its last committed outcome. */
    record Snapshot(String task, int partition, TaskState state, Intervention latest) {
    }

    /** What the worker took: a task and its waiting items, oldest first. */
    record Taken(Snapshot task, List<Pending> items) {
    }

    private static final class Entry {
        Snapshot snapshot;
        final List<Pending> pending = new ArrayList<>();
        boolean queued;
        boolean training;

        Entry(Snapshot snapshot) {
            this.snapshot = snapshot;
        }
    }

    private final java.util.function.ToIntFunction<String> home;
    private final Map<String, Entry> tasks = new HashMap<>();
    private final ArrayDeque<String> ready = new ArrayDeque<>();
    // What the compacted topics held for the tasks of the partitions owned, read at assignment.
    private final Map<String, TaskState> states = new HashMap<>();
    private final Map<String, Intervention> artifacts = new HashMap<>();

    /** home: the partition a task belongs to. */
    TaskBoard(java.util.function.ToIntFunction<String> home) {
        this.home = home;
    }

    /** Takes the states and newest artifacts of the tasks of partitions just assigned. */
    synchronized void load(Map<String, TaskState> states, Map<String, Intervention> artifacts) {
        this.states.putAll(states);
        artifacts.forEach((task, iv) -> this.artifacts.merge(task, iv, (a, b) -> a.version() >= b.version() ? a : b));
    }

    /**
     * Adds an item to its task (created from the loaded state when new) and makes the task ready.
     * Returns false, adding nothing, when the task's state already covers the item: a replay.
     * {@code accepted} runs, under the lock, before the worker can take the item (the queued event,
     * so that it precedes the started one).
     */
    synchronized boolean offer(String task, Pending item, Runnable accepted) {
        Entry e = tasks.computeIfAbsent(task, k -> new Entry(new Snapshot(k, home.applyAsInt(k),
                states.getOrDefault(k, TaskState.initial(k)), artifacts.get(k))));
        if (e.snapshot.state().covers(item.partition(), item.offset())) {
            return false;
        }
        accepted.run();
        e.pending.add(item);
        if (!e.queued && !e.training) {
            e.queued = true;
            ready.add(task);
            notifyAll();
        }
        return true;
    }

    /**
     * Waits for ready tasks, then takes up to {@code max} of them with their items, marking them
     * training. Returns an empty list once {@code stop} says so.
     */
    synchronized List<Taken> take(int max, BooleanSupplier stop) throws InterruptedException {
        while (ready.isEmpty() && !stop.getAsBoolean()) {
            wait(500);
        }
        List<Taken> taken = new ArrayList<>();
        if (stop.getAsBoolean()) {
            return taken;
        }
        while (!ready.isEmpty() && taken.size() < max) {
            Entry e = tasks.get(ready.poll());
            e.queued = false;
            e.training = true;
            List<Pending> items = new ArrayList<>(e.pending);
            items.sort(java.util.Comparator.comparingLong(Pending::offset));
            e.pending.clear();
            taken.add(new Taken(e.snapshot, items));
        }
        return taken;
    }

    /** Swaps in a task's snapshot after an outcome was committed. */
    synchronized void update(String task, TaskState state, Intervention latest) {
        Entry e = tasks.get(task);
        if (e != null) {
            e.snapshot = new Snapshot(task, e.snapshot.partition(), state, latest);
        }
    }

    synchronized Snapshot snapshot(String task) {
        Entry e = tasks.get(task);
        return e == null ? null : e.snapshot;
    }

    /** The worker is done with these tasks: those that received items meanwhile are ready again. */
    synchronized void done(Collection<Taken> taken) {
        for (Taken t : taken) {
            Entry e = tasks.get(t.task().task());
            if (e == null) {
                continue;
            }
            e.training = false;
            if (!e.pending.isEmpty() && !e.queued) {
                e.queued = true;
                ready.add(t.task().task());
            }
        }
        notifyAll();
    }

    /**
     * Gives up partitions: drops their tasks' waiting items (the next owner replays them), waits
     * until none of their tasks trains (its outcome commits first), then forgets them.
     */
    synchronized void release(Collection<Integer> partitions, BooleanSupplier stop) throws InterruptedException {
        Set<String> leaving = new HashSet<>();
        tasks.forEach((name, e) -> {
            if (partitions.contains(e.snapshot.partition())) {
                leaving.add(name);
                e.pending.clear();
                e.queued = false;
            }
        });
        ready.removeAll(leaving);
        while (leaving.stream().anyMatch(t -> tasks.get(t).training) && !stop.getAsBoolean()) {
            wait(200);
        }
        tasks.keySet().removeAll(leaving);
        states.keySet().removeIf(t -> partitions.contains(home.applyAsInt(t)));
        artifacts.keySet().removeIf(t -> partitions.contains(home.applyAsInt(t)));
    }

    synchronized int size() {
        return tasks.size();
    }

    /** Wakes a waiting worker (to stop). */
    synchronized void wake() {
        notifyAll();
    }
}
