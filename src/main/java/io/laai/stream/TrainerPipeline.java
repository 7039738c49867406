package io.laai.stream;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.ObjIntConsumer;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import io.laai.contract.DemonstrationBatch;
import io.laai.intervention.Intervention;
import io.laai.kafka.KafkaClients;
import io.laai.kafka.Topics;
import io.laai.model.LanguageModel;
import io.laai.train.TrainConfig;
import io.laai.train.Trainer;
import io.laai.train.TrainingProgress;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The trainer role, assembled along its concurrency boundary: a {@link ConsumerLoop} on the
 * polling thread feeds the {@link TaskBoard}; the worker thread takes tasks from it and a
 * {@link TrainingRound} turns them into outcomes, which the {@link OutcomeWriter} commits, each in
 * one transaction with its consumed offsets (tracked by the {@link OffsetLedger}). A record is
 * accounted for exactly once: by its committed offset, or (consumed again after a crash between
 * another task's commit and its own offset moving past it) by its task's committed state.
 */
public final class TrainerPipeline implements AutoCloseable {

    /** Everything the pipeline is configured by (kafka.*, laai.trainer.*, laai.train.*). */
    public record Settings(KafkaClients kafka, String groupId, String instanceId, int window,
            DemonstrationBatch.Limits limits, TrainConfig defaults, boolean gate, int progressEvery, int maxInFlight,
            int tasksPerStep, int maxAttempts, Duration maxTraining, long memoryBudget, Duration sessionTimeout,
            boolean staticMembership, Duration transactionTimeout) {
        public Settings {
            if (window < 1 || progressEvery < 1 || maxInFlight < 1 || tasksPerStep < 1 || maxAttempts < 1
                    || memoryBudget < 1 || maxTraining.isNegative() || maxTraining.isZero()
                    || transactionTimeout.toMillis() < 1000) {
                throw new IllegalArgumentException("laai.trainer.window, progress-every, max-in-flight, tasks-per-step, "
                        + "max-attempts, max-training-seconds and memory-budget must be positive, "
                        + "transaction-timeout at least 1s");
            }
        }

        /** With the defaults of the other settings (tests, the bench). */
        public Settings(String bootstrapServers, String groupId, String instanceId, int window,
                DemonstrationBatch.Limits limits, TrainConfig defaults, boolean gate, int progressEvery, int maxInFlight,
                int tasksPerStep) {
            this(KafkaClients.of(bootstrapServers), groupId, instanceId, window, limits, defaults, gate, progressEvery,
                    maxInFlight, tasksPerStep, 2, Duration.ofSeconds(300), Long.MAX_VALUE, Duration.ofSeconds(10), false,
                    Duration.ofSeconds(10));
        }

        public Settings withAttempts(int maxAttempts, boolean staticMembership) {
            return new Settings(kafka, groupId, instanceId, window, limits, defaults, gate, progressEvery, maxInFlight,
                    tasksPerStep, maxAttempts, maxTraining, memoryBudget, sessionTimeout, staticMembership, transactionTimeout);
        }

        public Settings withTraining(Duration maxTraining, long memoryBudget) {
            return new Settings(kafka, groupId, instanceId, window, limits, defaults, gate, progressEvery, maxInFlight,
                    tasksPerStep, maxAttempts, maxTraining, memoryBudget, sessionTimeout, staticMembership, transactionTimeout);
        }
    }

    private static final Logger LOG = Logger.getLogger(TrainerPipeline.class);

    private final Settings settings;
    private final KafkaConsumer<String, byte[]> consumer;
    private final OffsetLedger ledger = new OffsetLedger();
    private final TaskBoard board;
    private final ConsumerLoop loop;
    private final OutcomeWriter writer;
    private final TrainingRound round;
    private final Thread poller;
    private final Thread worker;

    private volatile boolean closing;
    private volatile Throwable failure;
    private volatile ObjIntConsumer<String> stepHook = (task, step) -> { };

    public TrainerPipeline(LanguageModel lm, Settings settings, MeterRegistry meters) {
        this.settings = settings;
        TrainerMetrics metrics = new TrainerMetrics(meters);
        Map<String, Object> c = new java.util.HashMap<>();
        c.put(ConsumerConfig.GROUP_ID_CONFIG, settings.groupId());
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, settings.instanceId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Math.max(settings.limits().maxBytes(), 1 << 20)));
        // A trainer that died is noticed within the session timeout, so its tasks move on quickly;
        // with static membership a restart under the same id takes its partitions back at once.
        long session = settings.sessionTimeout().toMillis();
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Long.toString(session));
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Long.toString(Math.max(500, session / 4)));
        if (settings.staticMembership()) {
            c.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, settings.instanceId());
        }
        this.consumer = settings.kafka().consumer("trainer", c);
        OutcomeWriter w = null;
        try {
            var info = consumer.partitionsFor(Topics.DEMONSTRATIONS, Duration.ofSeconds(60));
            if (info == null || info.isEmpty()) {
                throw new IllegalStateException(Topics.DEMONSTRATIONS + " does not exist on " + settings.kafka().bootstrapServers()
                        + " (laai.kafka.topics.create creates it)");
            }
            int partitions = info.size();
            AtomicReference<ConsumerGroupMetadata> group = new AtomicReference<>(consumer.groupMetadata());
            this.board = new TaskBoard(task -> io.laai.contract.TaskId.home(task, partitions));
            this.loop = new ConsumerLoop(settings, lm, consumer, ledger, board, metrics, group, partitions,
                    () -> closing || failure != null);
            w = new OutcomeWriter(settings.kafka(), settings.instanceId(), settings.transactionTimeout(), ledger, group::get,
                    metrics);
        } catch (RuntimeException e) {
            consumer.close(Duration.ZERO);
            throw e;
        }
        this.writer = w;
        loop.writer(writer);
        this.round = new TrainingRound(new Trainer(lm, settings.memoryBudget()), settings, metrics,
                (task, step) -> stepHook.accept(task, step), () -> closing);
        this.poller = new Thread(this::poll, "laai-trainer-poll-" + settings.instanceId());
        this.worker = new Thread(this::work, "laai-trainer-worker-" + settings.instanceId());
    }

    public TrainerPipeline start() {
        worker.start();
        poller.start();
        return this;
    }

    /** Why the pipeline stopped, if it did: Kafka refused an outcome, or a bug. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** True while polling, with no failure. */
    public boolean running() {
        return poller.isAlive() && failure == null && !closing;
    }

    /** Hears every step of every task's final fit on the worker thread (tests: a hook that halts the JVM mid-training). */
    public TrainerPipeline onStep(ObjIntConsumer<String> hook) {
        this.stepHook = hook;
        return this;
    }

    /** Tests: runs inside every outcome transaction, after its records are sent and before it commits. */
    public TrainerPipeline beforeCommit(Consumer<List<ProducerRecord<String, byte[]>>> hook) {
        writer.beforeCommit(hook);
        return this;
    }

    /** How many times partitions were assigned to this instance (0 until it joined its group). */
    public long assignments() {
        return loop.assignments();
    }

    private void poll() {
        try {
            loop.run();
        } catch (RuntimeException | Error e) {
            fail(e, "stopped consuming " + Topics.DEMONSTRATIONS);
        } finally {
            closing = true;
            board.wake();
            join(worker, 60_000);
            try {
                consumer.close(Duration.ofSeconds(30)); // revokes: commits what is accounted for
            } catch (RuntimeException e) {
                LOG.warnf("Closing the trainer's consumer: %s", e.getMessage());
            }
            writer.close();
        }
    }

    private void work() {
        while (!closing && failure == null) {
            List<TaskBoard.Taken> taken;
            try {
                taken = board.take(settings.tasksPerStep(), () -> closing || failure != null);
            } catch (InterruptedException e) {
                return;
            }
            if (taken.isEmpty()) {
                continue;
            }
            try {
                round.run(taken, sink);
            } catch (TrainingProgress.Cancelled e) {
                LOG.infof("Training of %s cancelled by shutdown; their batches will be replayed", names(taken));
                return;
            } catch (RuntimeException | Error e) {
                fail(e, "could not record the outcome of " + names(taken) + "; stopping so the batches are replayed");
                return;
            } finally {
                board.done(taken);
            }
        }
    }

    /** Commits an outcome, then makes it the task's snapshot. */
    private final TrainingRound.Sink sink = new TrainingRound.Sink() {
        @Override
        public void commit(TrainingRound.Outcome o) {
            TaskBoard.Snapshot before = board.snapshot(o.task());
            if (before == null) {
                return; // its partition was given up: the next owner replays the batches
            }
            TopicPartition home = new TopicPartition(Topics.DEMONSTRATIONS, before.partition());
            loop.commit(OutcomeWriter.records(o), o.covered(), Set.of(home), () -> ledger.owns(home));
            Intervention latest = o.artifact() != null ? o.artifact() : o.deletesArtifact() || before == null ? null
                    : before.latest();
            board.update(o.task(), o.state(), latest);
        }

        @Override
        public void inform(com.fasterxml.jackson.databind.node.ObjectNode event) {
            writer.inform(event);
        }
    };

    private void fail(Throwable e, String what) {
        if (failure == null) {
            failure = e;
        }
        LOG.errorf(e, "Trainer %s %s", settings.instanceId(), what);
        board.wake();
    }

    private static String names(List<TaskBoard.Taken> taken) {
        return taken.stream().map(t -> t.task().task()).collect(Collectors.joining(", "));
    }

    private static void join(Thread t, long millis) {
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops polling, cancels a training in progress (its batches are replayed later), commits what is accounted for. */
    @Override
    public void close() {
        closing = true;
        board.wake();
        if (poller.isAlive()) {
            join(poller, 120_000);
        } else if (poller.getState() == Thread.State.NEW) {
            worker.interrupt();
            consumer.close(Duration.ZERO);
            writer.close();
        }
    }
}
