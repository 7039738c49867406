package io.laai.stream;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ObjIntConsumer;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.contract.DeadLetters;
import io.laai.contract.TaskState;
import io.laai.contract.TrainingEvents;
import io.laai.intervention.Intervention;
import io.laai.train.Demonstration;
import io.laai.train.TrainConfig;
import io.laai.train.TrainResult;
import io.laai.train.Trainer;
import io.laai.train.TrainingProgress;

/**
 * Turns what the worker took from the board into outcomes, without touching Kafka: a deletion
 * clears the window, a batch that crashed the process max-attempts times is dead-lettered, the
 * rest train (tasks together in one batched step, each alone when that fails) and pass the gate
 * or not. Each outcome goes to the {@link Sink} as it is decided, which commits it before the
 * round goes on; informational events (started, progress) go to it too.
 */
final class TrainingRound {

    /** Where outcomes go: {@code commit} returns once the outcome and its offsets are on Kafka. */
    interface Sink {
        void commit(Outcome outcome);

        void inform(ObjectNode event);
    }

    /** A batch to dead-letter, with its code, its reason, and extra headers. */
    record DeadLetter(Pending item, String code, String reason, Map<String, String> headers) {
    }

    /**
     * Everything one outcome writes, atomically: the artifact to publish (or a tombstone), the
     * task's state, dead letters, the event, and the items whose offsets it accounts for.
     */
    record Outcome(String task, TaskState state, Intervention artifact, boolean deletesArtifact, List<DeadLetter> deadLetters,
            ObjectNode event, List<Pending> covered) {

        /** A state written before a training starts, accounting for nothing. */
        static Outcome marker(TaskState state) {
            return new Outcome(state.task(), state, null, false, List.of(), null, List.of());
        }
    }

    /** Metadata of an artifact naming the last batch it covers. */
    static final String SOURCE_PARTITION = "source_partition";
    static final String SOURCE_OFFSET = "source_offset";

    private static final Logger LOG = Logger.getLogger(TrainingRound.class);

    private final Trainer trainer;
    private final TrainerPipeline.Settings settings;
    private final TrainerMetrics metrics;
    private final ObjIntConsumer<String> stepHook;
    private final java.util.function.BooleanSupplier cancelled;

    TrainingRound(Trainer trainer, TrainerPipeline.Settings settings, TrainerMetrics metrics, ObjIntConsumer<String> stepHook,
            java.util.function.BooleanSupplier cancelled) {
        this.trainer = trainer;
        this.settings = settings;
        this.metrics = metrics;
        this.stepHook = stepHook;
        this.cancelled = cancelled;
    }

    /** A task during the round: its state and newest artifact as the outcomes committed so far leave them. */
    private static final class Work {
        final String task;
        TaskState state;
        Intervention latest;

        Work(TaskBoard.Snapshot s) {
            this.task = s.task();
            this.state = s.state();
            this.latest = s.latest();
        }
    }

    /** One task's part of a training step: its window grown by the coalesced batches and the version it would get. */
    private record Step(Work work, List<Pending> batches, TaskState before, TaskState grown, long version, TrainConfig cfg) {
    }

    private Outcome commit(Sink sink, Work w, Outcome o) {
        sink.commit(o);
        w.state = o.state();
        if (o.artifact() != null) {
            w.latest = o.artifact();
        }
        if (o.deletesArtifact()) {
            w.latest = null;
        }
        return o;
    }

    private ObjectNode event(String task, String type) {
        return TrainingEvents.of(task, type, settings.instanceId());
    }

    /** Decides and commits the outcome of every item taken. */
    void run(List<TaskBoard.Taken> taken, Sink sink) {
        List<Step> steps = new ArrayList<>();
        for (TaskBoard.Taken t : taken) {
            Work w = new Work(t.task());
            List<Pending> items = t.items();
            int delete = -1;
            for (int i = 0; i < items.size(); i++) {
                if (items.get(i).deletes()) {
                    delete = i;
                }
            }
            if (delete >= 0) {
                commit(sink, w, deleted(w, items.subList(0, delete + 1)));
                items = items.subList(delete + 1, items.size());
            }
            if (!items.isEmpty() && w.state.attempts() >= settings.maxAttempts()
                    && items.get(0).offset() <= w.state.attemptOffset()) {
                long upTo = w.state.attemptOffset();
                commit(sink, w, crashed(w, items.stream().filter(p -> p.offset() <= upTo).toList()));
                items = items.stream().filter(p -> p.offset() > upTo).toList();
            }
            if (items.isEmpty()) {
                continue;
            }
            TaskState before = w.state;
            TaskState grown = grow(before, items, before.version(), "training");
            long version = Math.max(before.version(), w.latest == null ? 0 : w.latest.version()) + 1;
            TrainConfig cfg;
            try {
                cfg = settings.defaults().with(grown.config());
            } catch (IllegalArgumentException bad) { // each batch's settings were valid; together they are not
                commit(sink, w, failed(new Step(w, items, before, grown, version, null), bad));
                continue;
            }
            steps.add(new Step(w, items, before, grown, version, cfg));
            sink.inform(event(w.task, TrainingEvents.STARTED).put("version", version).put("demonstrations", grown.window().size())
                    .put("batches", items.size()).put("partition", grown.partition()).put("offset", grown.offset())
                    .put("tasks_in_step", taken.size()));
        }
        if (!steps.isEmpty()) {
            train(steps, sink);
        }
    }

    private void train(List<Step> steps, Sink sink) {
        try {
            long start = System.nanoTime();
            long deadline = start + settings.maxTraining().toNanos();
            List<TrainResult> results = null;
            // A task retried after a crash trains alone, so a poison batch takes no other task down with it again.
            boolean together = steps.size() > 1 && steps.stream().allMatch(st -> st.before.attempts() == 0);
            if (together) {
                steps.forEach(s -> attempting(sink, s));
                try {
                    results = trainer.trainMany(steps.stream().map(s -> new Trainer.Job(s.work.task, s.version,
                            s.grown.window(), s.cfg, s.work.latest, progress(sink, s.work.task, s.version, deadline))).toList(),
                            progress(sink, null, 0, deadline));
                } catch (TrainingProgress.Cancelled e) {
                    throw e;
                } catch (RuntimeException e) {
                    LOG.infof("Training %d tasks together failed (%s); training each alone", steps.size(), e.getMessage());
                }
            }
            for (int i = 0; i < steps.size(); i++) {
                Step step = steps.get(i);
                TrainResult result;
                if (results != null) {
                    result = results.get(i);
                } else {
                    try {
                        if (!together) {
                            attempting(sink, step);
                        }
                        result = trainer.train(step.work.task, step.version, step.grown.window(), step.cfg, step.work.latest,
                                progress(sink, step.work.task, step.version, deadline));
                    } catch (TrainingProgress.Cancelled e) {
                        throw e;
                    } catch (RuntimeException e) {
                        commit(sink, step.work, failed(step, e));
                        continue;
                    }
                }
                metrics.training.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
                commit(sink, step.work, finish(step, result));
            }
        } catch (TrainingProgress.Cancelled e) {
            // A shutdown is not a crash: the attempts recorded for these trainings are taken back.
            for (Step step : steps) {
                if (step.work.state.attempts() > step.before.attempts()) {
                    commit(sink, step.work, Outcome.marker(step.before));
                }
            }
            throw e;
        }
    }

    /**
     * Records, before a training starts, that it is being attempted: should the process die during
     * it, the restarted owner counts the attempt and stops after laai.trainer.max-attempts.
     */
    private void attempting(Sink sink, Step step) {
        Work w = step.work;
        commit(sink, w, Outcome.marker(w.state.attempting(step.grown.partition(), step.batches.get(0).offset(),
                step.grown.offset())));
    }

    /** A tombstone: the window and settings start over; the version count goes on, so no version number is reused. */
    private Outcome deleted(Work w, List<Pending> items) {
        Pending last = items.get(items.size() - 1);
        long version = Math.max(w.state.version(), w.latest == null ? 0 : w.latest.version());
        TaskState cleared = new TaskState(w.task, version, List.of(), Map.of(), last.partition(), last.offset(), "deleted");
        metrics.deleted.increment();
        LOG.infof("Task %s deleted at offset %d (%d batches before it dropped); its next version will be %d", w.task,
                last.offset(), items.size() - 1, version + 1);
        return new Outcome(w.task, cleared, null, true, List.of(), event(w.task, TrainingEvents.DELETED)
                .put("version", version).put("partition", last.partition()).put("offset", last.offset())
                .put("batches_dropped", items.size() - 1), items);
    }

    /**
     * The batches a training the process died in, max-attempts times, covered: dead-lettered as
     * training-crashed with the window as it was; the batches after them go on.
     */
    private Outcome crashed(Work w, List<Pending> poison) {
        String reason = "the trainer process ended during " + w.state.attempts() + " trainings of these batches "
                + "(laai.trainer.max-attempts is " + settings.maxAttempts() + ")";
        metrics.rejected(DeadLetters.TRAINING_CRASHED);
        Pending last = poison.get(poison.size() - 1);
        LOG.warnf("Task %s: %s; dead-lettering %d batches up to offset %d", w.task, reason, poison.size(), last.offset());
        Map<String, String> attempts = Map.of(DeadLetters.ATTEMPTS, Integer.toString(w.state.attempts()));
        TaskState after = new TaskState(w.task, w.state.version(), w.state.window(), w.state.config(), last.partition(),
                last.offset(), "crashed");
        return new Outcome(w.task, after, null, false,
                poison.stream().map(p -> new DeadLetter(p, DeadLetters.TRAINING_CRASHED, reason, attempts)).toList(),
                event(w.task, TrainingEvents.FAILED).put("reason", reason).put("code", DeadLetters.TRAINING_CRASHED)
                        .put("offset", last.offset()).put("attempts", w.state.attempts()), poison);
    }

    /** The batches cannot be trained on: park them in the DLQ and keep the window as it was. */
    private Outcome failed(Step step, RuntimeException e) {
        String reason = "training failed: " + e.getMessage();
        metrics.rejected(DeadLetters.TRAINING_FAILED);
        LOG.infof("Task %s: %s", step.work.task, reason);
        TaskState failed = new TaskState(step.work.task, step.before.version(), step.before.window(), step.before.config(),
                step.grown.partition(), step.grown.offset(), "failed");
        return new Outcome(step.work.task, failed, null, false,
                step.batches.stream().map(p -> new DeadLetter(p, DeadLetters.TRAINING_FAILED, reason, Map.of())).toList(),
                event(step.work.task, TrainingEvents.FAILED).put("reason", reason).put("offset", step.grown.offset()),
                step.batches);
    }

    /** The gate, then a published or rejected outcome. */
    private Outcome finish(Step step, TrainResult result) {
        Work w = step.work;
        TaskState grown = step.grown;
        boolean previousValidated = w.latest != null && Double.isFinite(parse(w.latest.metadata().get("val_accuracy")));
        boolean allowUnvalidated = step.batches.stream().anyMatch(p -> p.batch().allowUnvalidated());
        Optional<String> refusal = settings.gate() ? PublishGate.refusal(result, previousValidated, allowUnvalidated)
                : Optional.empty();
        ObjectNode outcome;
        TaskState after;
        Intervention artifact = null;
        if (refusal.isEmpty()) {
            artifact = result.intervention().withMetadata(Map.of(SOURCE_PARTITION, Integer.toString(grown.partition()),
                    SOURCE_OFFSET, Long.toString(grown.offset()), "trainer", settings.instanceId()));
            after = grow(step.before, step.batches, step.version, "published");
            outcome = event(w.task, TrainingEvents.PUBLISHED).put("version", step.version);
            metrics.published.increment();
            long now = System.currentTimeMillis();
            long oldest = 0;
            for (Pending p : step.batches) {
                long latency = Math.max(0, now - p.record().timestamp());
                metrics.latency.record(latency, java.util.concurrent.TimeUnit.MILLISECONDS);
                oldest = Math.max(oldest, latency);
            }
            outcome.put("latency_ms", oldest);
            LOG.infof("Task %s version %d published (%d demonstrations, %d ms training, held-out accuracy %.2f vs base %.2f)",
                    w.task, step.version, grown.window().size(), result.millis(), result.valAccuracy(), result.baseValAccuracy());
        } else {
            metrics.rejected("gate");
            after = grow(step.before, step.batches, step.before.version(), "rejected");
            outcome = event(w.task, TrainingEvents.REJECTED).put("version", step.version).put("reason", refusal.get());
            LOG.infof("Task %s: candidate version %d rejected: %s", w.task, step.version, refusal.get());
        }
        outcome.put("partition", grown.partition()).put("offset", grown.offset()).put("batches", step.batches.size())
                .put("demonstrations", grown.window().size()).put("millis", result.millis()).put("steps", result.steps())
                .put("train_loss", result.trainLoss()).put("val_accuracy", result.valAccuracy())
                .put("base_val_accuracy", result.baseValAccuracy())
                .put("previous_val_accuracy", result.previousValAccuracy())
                .put("time_limited", "true".equals(result.intervention().metadata().get("time_limited")));
        TrainingEvents.norms(outcome, result.intervention());
        return new Outcome(w.task, after, artifact, false, List.of(), outcome, step.batches);
    }

    private static double parse(String number) {
        try {
            return number == null ? Double.NaN : Double.parseDouble(number);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** The state with the batches' demonstrations and settings added. */
    TaskState grow(TaskState s, List<Pending> batches, long version, String outcome) {
        List<Demonstration> window = s.window();
        Map<String, String> config = new LinkedHashMap<>(s.config());
        for (Pending p : batches) {
            window = TaskState.window(window, p.batch(), settings.window());
            config.putAll(p.batch().config());
        }
        Pending last = batches.get(batches.size() - 1);
        return new TaskState(s.task(), version, window, config, last.partition(), last.offset(), outcome);
    }

    private TrainingProgress progress(Sink sink, String task, long version, long deadline) {
        return new TrainingProgress() {
            @Override
            public boolean outOfTime() {
                return System.nanoTime() - deadline > 0;
            }

            @Override
            public void onStep(int step, double crossEntropy, double objective) {
                if (task != null) {
                    stepHook.accept(task, step);
                }
                // every one of the first steps, where the loss moves most and a fit that stops at
                // target_loss often ends, then every progressEvery-th
                if (task != null && (step <= settings.progressEvery() || step % settings.progressEvery() == 0)) {
                    sink.inform(event(task, TrainingEvents.PROGRESS).put("version", version).put("step", step)
                            .put("loss", crossEntropy).put("objective", objective));
                }
            }

            @Override
            public boolean cancelled() {
                return cancelled.getAsBoolean();
            }
        };
    }
}
