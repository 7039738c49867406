package io.laai.stream;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import io.laai.kafka.CompactedTopics;
import io.laai.kafka.KafkaPublisher;
import io.laai.kafka.Topics;
import io.laai.model.LanguageModel;
import io.laai.model.ModelFormatException;
import io.laai.train.TrainConfig;
import io.laai.train.TrainResult;
import io.laai.train.Trainer;
import io.laai.train.TrainingProgress;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The trainer role: consumes {@code laai.demonstrations} in a consumer group, validates every
 * batch (the invalid go to the DLQ with the reason), keeps each task's window, trains on one
 * worker thread while the polling thread keeps polling, and records every batch's outcome on Kafka
 * before committing its offset:
 * <ul>
 * <li>published: the artifact on laai.interventions, then the task's state on laai.trainer-state,
 * then a published event;</li>
 * <li>rejected by the gate: the state (window grown, version unchanged), then a rejected event;</li>
 * <li>invalid, or training failed: the original record on the DLQ (and for a failure the state
 * and a failed event).</li>
 * </ul>
 * A batch at or below the state's last offset is a replay and is skipped, so a crash between the
 * outcome and the commit neither loses nor doubles anything. A crash between the artifact and its
 * state record leaves an "orphan" artifact whose metadata names the batch it covers; the replay
 * adopts it instead of training again, so versions stay deterministic.
 */
public final class TrainerPipeline implements AutoCloseable {

    /** Everything the pipeline is configured by (laai.trainer.*, laai.train.*). */
    public record Settings(String bootstrapServers, String groupId, String instanceId, int window,
            DemonstrationBatch.Limits limits, TrainConfig defaults, boolean gate, int progressEvery, int maxInFlight,
            int tasksPerStep, int maxAttempts, Duration maxTraining, long memoryBudget, Duration sessionTimeout,
            boolean staticMembership) {
        public Settings {
            if (window < 1 || progressEvery < 1 || maxInFlight < 1 || tasksPerStep < 1 || maxAttempts < 1
                    || memoryBudget < 1 || maxTraining.isNegative() || maxTraining.isZero()) {
                throw new IllegalArgumentException("laai.trainer.window, progress-every, max-in-flight, tasks-per-step, "
                        + "max-attempts, max-training-seconds and memory-budget must be positive");
            }
        }

        /** With the defaults of the other settings (tests, the bench). */
        public Settings(String bootstrapServers, String groupId, String instanceId, int window,
                DemonstrationBatch.Limits limits, TrainConfig defaults, boolean gate, int progressEvery, int maxInFlight,
                int tasksPerStep) {
            this(bootstrapServers, groupId, instanceId, window, limits, defaults, gate, progressEvery, maxInFlight,
                    tasksPerStep, 2, Duration.ofSeconds(300), Long.MAX_VALUE, Duration.ofSeconds(10), false);
        }

        public Settings withAttempts(int maxAttempts, boolean staticMembership) {
            return new Settings(bootstrapServers, groupId, instanceId, window, limits, defaults, gate, progressEvery,
                    maxInFlight, tasksPerStep, maxAttempts, maxTraining, memoryBudget, sessionTimeout, staticMembership);
        }

        public Settings withTraining(Duration maxTraining, long memoryBudget) {
            return new Settings(bootstrapServers, groupId, instanceId, window, limits, defaults, gate, progressEvery,
                    maxInFlight, tasksPerStep, maxAttempts, maxTraining, memoryBudget, sessionTimeout, staticMembership);
        }
    }

    /** The DLQ code of batches whose training the process did not survive, laai.trainer.max-attempts times. */
    public static final String TRAINING_CRASHED = "training-crashed";

    private static final Logger LOG = Logger.getLogger(TrainerPipeline.class);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
    private static final int MAX_DETAIL_CHARS = 2000;
    static final String SOURCE_PARTITION = "source_partition";
    static final String SOURCE_OFFSET = "source_offset";

    private final LanguageModel lm;
    private final Settings settings;
    private final Trainer trainer;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final TrainingEvents events;
    private final Metrics metrics;
    private final Thread poller;
    private final Thread worker;

    private final Object lock = new Object();
    // Guarded by lock. received: per partition, every offset polled and not yet committed → accounted for.
    private final Map<TopicPartition, TreeMap<Long, Boolean>> received = new HashMap<>();
    private final Map<String, Task> tasks = new HashMap<>();
    private final ArrayDeque<Task> ready = new ArrayDeque<>();
    private final Map<String, TaskState> states = new HashMap<>();
    private final Map<String, Intervention> artifacts = new HashMap<>();
    private final Set<Task> training = new java.util.HashSet<>();
    // Polling thread only: offsets accounted for whose commit has not succeeded yet.
    private final Map<TopicPartition, OffsetAndMetadata> uncommitted = new HashMap<>();

    private volatile boolean closing;
    private volatile Throwable failure;
    private volatile boolean paused;
    private final AtomicLong assignments = new AtomicLong();
    private volatile java.util.function.ObjIntConsumer<String> stepHook = (task, step) -> { };

    /** A task this trainer owns: its state after the last outcome and the batches waiting to train. */
    private static final class Task {
        final String name;
        final int partition;
        TaskState state;
        Intervention latest; // the newest artifact: warm start, the gate's previous version
        Orphan orphan;
        final List<Pending> pending = new ArrayList<>();
        boolean queued;

        Task(String name, int partition, TaskState state, Intervention latest) {
            this.name = name;
            this.partition = partition;
            this.state = state;
            this.latest = latest;
        }
    }

    /** An artifact published without its state record: the batches up to {@code offset} made {@code version}. */
    private record Orphan(long version, long offset) {
    }

    private record Pending(ConsumerRecord<String, byte[]> record, DemonstrationBatch batch) {
        long offset() {
            return record.offset();
        }
    }

    public TrainerPipeline(LanguageModel lm, Settings settings, MeterRegistry meters) {
        this.lm = lm;
        this.settings = settings;
        this.trainer = new Trainer(lm, settings.memoryBudget());
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, settings.groupId());
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, settings.instanceId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
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
        this.consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, settings.instanceId());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_STATE_BYTES));
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.events = new TrainingEvents(producer, settings.instanceId());
        this.metrics = new Metrics(meters);
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
    public TrainerPipeline onStep(java.util.function.ObjIntConsumer<String> hook) {
        this.stepHook = hook;
        return this;
    }

    /** How many times partitions were assigned to this instance (0 until it joined its group). */
    public long assignments() {
        return assignments.get();
    }

    // ---- polling thread -------------------------------------------------------------------------

    private void poll() {
        try {
            consumer.subscribe(List.of(Topics.DEMONSTRATIONS), new Rebalance());
            while (!closing && failure == null) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    accept(r);
                }
                commit(null);
                backpressure();
                metrics.lag.set(consumer.assignment().stream()
                        .mapToLong(tp -> consumer.currentLag(tp).orElse(0)).sum());
            }
        } catch (RuntimeException | Error e) {
            if (failure == null) {
                failure = e;
            }
            LOG.errorf(e, "Trainer %s stopped consuming %s", settings.instanceId(), Topics.DEMONSTRATIONS);
        } finally {
            closing = true;
            synchronized (lock) {
                lock.notifyAll();
            }
            join(worker, 60_000);
            try {
                producer.flush();
                consumer.close(Duration.ofSeconds(30)); // revokes: commits what is accounted for
            } catch (RuntimeException e) {
                LOG.warnf("Closing the trainer's consumer: %s", e.getMessage());
            }
            producer.close(Duration.ofSeconds(10));
        }
    }

    private void accept(ConsumerRecord<String, byte[]> r) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        synchronized (lock) {
            received.computeIfAbsent(tp, k -> new TreeMap<>()).put(r.offset(), false);
        }
        metrics.consumed.increment();
        DemonstrationBatch batch;
        try {
            batch = validate(r);
        } catch (DemonstrationBatch.Invalid e) {
            metrics.rejected(e.code());
            LOG.debugf("Dead-lettering %s-%d@%d: %s", r.topic(), r.partition(), r.offset(), e.getMessage());
            producer.send(deadLetter(r, e.code(), e.getMessage()), (m, ex) -> {
                if (ex != null) {
                    failure = ex;
                } else {
                    accounted(tp, r.offset());
                }
            });
            return;
        }
        Task t;
        synchronized (lock) {
            t = tasks.computeIfAbsent(batch.task(), k -> newTask(k, r.partition()));
            if (t.state.covers(r.partition(), r.offset())) {
                accounted(tp, r.offset()); // a replay of a batch whose outcome is already on Kafka
                metrics.replayed.increment();
                return;
            }
            t.pending.add(new Pending(r, batch));
            if (!t.queued && !training.contains(t)) {
                t.queued = true;
                ready.add(t);
                lock.notifyAll();
            }
        }
        events.send(events.of(t.name, "queued").put("partition", r.partition()).put("offset", r.offset())
                .put("demonstrations", batch.demonstrations().size()));
    }

    private DemonstrationBatch validate(ConsumerRecord<String, byte[]> r) {
        DemonstrationBatch batch = DemonstrationBatch.parse(r.key(), r.value(), settings.limits());
        batch.requireFingerprint(lm.fingerprint());
        batch.requireTrainable(lm, settings.defaults(), settings.memoryBudget());
        return batch;
    }

    private Task newTask(String name, int partition) {
        TaskState state = states.getOrDefault(name, TaskState.initial(name));
        Intervention latest = artifacts.get(name);
        Task t = new Task(name, partition, state, latest);
        if (latest != null && latest.version() > state.version()) {
            try {
                String p = latest.metadata().get(SOURCE_PARTITION);
                String o = latest.metadata().get(SOURCE_OFFSET);
                if (p != null && o != null && Integer.parseInt(p) == partition && Long.parseLong(o) > state.offset()) {
                    t.orphan = new Orphan(latest.version(), Long.parseLong(o));
                    LOG.infof("Task %s: version %d was published without its state; adopting it for batches up to offset %s",
                            name, latest.version(), o);
                }
            } catch (NumberFormatException e) {
                LOG.warnf("Task %s: artifact version %d has an unreadable source position; not adopting it", name,
                        latest.version());
            }
        }
        return t;
    }

    private void accounted(TopicPartition tp, long offset) {
        synchronized (lock) {
            TreeMap<Long, Boolean> offsets = received.get(tp);
            if (offsets != null && offsets.containsKey(offset)) {
                offsets.put(offset, true);
            }
        }
    }

    /**
     * Commits, per partition, past the longest accounted-for prefix (only partitions in {@code only}
     * when given). A commit that fails is retried with the next one.
     */
    private void commit(Collection<TopicPartition> only) {
        synchronized (lock) {
            for (Map.Entry<TopicPartition, TreeMap<Long, Boolean>> e : received.entrySet()) {
                long next = -1;
                TreeMap<Long, Boolean> offsets = e.getValue();
                while (!offsets.isEmpty() && offsets.firstEntry().getValue()) {
                    next = offsets.pollFirstEntry().getKey() + 1;
                }
                if (next >= 0) {
                    uncommitted.put(e.getKey(), new OffsetAndMetadata(next));
                }
            }
        }
        Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>(uncommitted);
        if (only != null) {
            commits.keySet().retainAll(only);
        }
        if (commits.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(commits);
            commits.keySet().forEach(uncommitted::remove);
        } catch (org.apache.kafka.common.errors.RetriableException | org.apache.kafka.clients.consumer.CommitFailedException
                | org.apache.kafka.common.errors.RebalanceInProgressException e) {
            LOG.debugf("Commit of %s failed, retried with the next one: %s", commits, e.getMessage());
        }
    }

    /** Pauses fetching while too many batches wait for their outcome; polling goes on, so the group keeps us. */
    private void backpressure() {
        int outstanding;
        synchronized (lock) {
            outstanding = received.values().stream().mapToInt(Map::size).sum();
        }
        if (outstanding > settings.maxInFlight()) {
            if (!paused) {
                LOG.infof("Trainer %s: %d batches wait for training; pausing the consumer", settings.instanceId(), outstanding);
            }
            paused = true;
            consumer.pause(consumer.assignment());
        } else if (paused && outstanding <= settings.maxInFlight() / 2) {
            paused = false;
            consumer.resume(consumer.paused());
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            Set<Integer> numbers = partitions.stream().map(TopicPartition::partition).collect(Collectors.toSet());
            Map<String, byte[]> stateRecords = CompactedTopics.readLatest(settings.bootstrapServers(), Topics.TRAINER_STATE,
                    READ_TIMEOUT);
            Map<String, byte[]> artifactRecords = CompactedTopics.readLatest(settings.bootstrapServers(), Topics.INTERVENTIONS,
                    READ_TIMEOUT);
            synchronized (lock) {
                stateRecords.forEach((task, bytes) -> {
                    if (bytes == null) {
                        return;
                    }
                    try {
                        TaskState s = TaskState.fromJson(bytes);
                        if (numbers.contains(s.partition())) {
                            states.put(task, s);
                        }
                    } catch (IllegalArgumentException e) {
                        LOG.warnf("Ignoring the unreadable state of task %s: %s", task, e.getMessage());
                    }
                });
                artifactRecords.forEach((task, bytes) -> {
                    if (bytes == null) {
                        artifacts.remove(task);
                        return;
                    }
                    try {
                        Intervention iv = Artifacts.decode(bytes, Topics.INTERVENTIONS + "/" + task);
                        Artifacts.requireCompatible(iv, lm);
                        artifacts.merge(task, iv, (a, b) -> a.version() >= b.version() ? a : b);
                    } catch (ModelFormatException | IllegalArgumentException e) {
                        LOG.debugf("Task %s's artifact does not fit this model; training it starts afresh: %s", task,
                                e.getMessage());
                    }
                });
            }
            assignments.incrementAndGet();
            LOG.infof("Trainer %s now owns %s (%d task states)", settings.instanceId(), partitions, states.size());
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            release(partitions, true);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            release(partitions, false);
        }

        /**
         * Gives partitions up: drops their batches that have not started (the next owner replays them)
         * and waits for one in training to reach its outcome, so the commit covers it.
         */
        private void release(Collection<TopicPartition> partitions, boolean commit) {
            if (partitions.isEmpty()) {
                return;
            }
            Set<Integer> numbers = partitions.stream().map(TopicPartition::partition).collect(Collectors.toSet());
            synchronized (lock) {
                ready.removeIf(t -> numbers.contains(t.partition));
                tasks.values().stream().filter(t -> numbers.contains(t.partition)).forEach(t -> {
                    t.pending.clear();
                    t.queued = false;
                });
                while (training.stream().anyMatch(t -> numbers.contains(t.partition)) && !closing && failure == null) {
                    try {
                        lock.wait(500);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            if (commit) {
                producer.flush(); // dead letters in flight account for their records
                try {
                    commit(partitions);
                } catch (RuntimeException e) {
                    LOG.warnf("Could not commit %s on revocation (they will be replayed and skipped): %s", partitions,
                            e.getMessage());
                }
            }
            partitions.forEach(uncommitted::remove);
            synchronized (lock) {
                received.keySet().removeAll(partitions);
                tasks.values().removeIf(t -> numbers.contains(t.partition));
                states.values().removeIf(s -> numbers.contains(s.partition()));
            }
        }
    }

    // ---- worker thread --------------------------------------------------------------------------

    private void work() {
        while (true) {
            Map<Task, List<Pending>> taken = new LinkedHashMap<>();
            synchronized (lock) {
                while (ready.isEmpty() && !closing) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closing) {
                    return;
                }
                while (!ready.isEmpty() && taken.size() < settings.tasksPerStep()) {
                    Task t = ready.poll();
                    t.queued = false;
                    taken.put(t, new ArrayList<>(t.pending));
                    t.pending.clear();
                }
                training.addAll(taken.keySet());
            }
            try {
                process(taken);
            } catch (TrainingProgress.Cancelled e) {
                LOG.infof("Training of %s cancelled by shutdown; their batches will be replayed", names(taken.keySet()));
                return;
            } catch (RuntimeException | Error e) {
                failure = e;
                LOG.errorf(e, "Trainer %s could not record the outcome of %s; stopping so the batches are replayed",
                        settings.instanceId(), names(taken.keySet()));
                return;
            } finally {
                synchronized (lock) {
                    training.removeAll(taken.keySet());
                    for (Task t : taken.keySet()) {
                        if (!t.pending.isEmpty() && !t.queued && tasks.get(t.name) == t) {
                            t.queued = true;
                            ready.add(t);
                        }
                    }
                    lock.notifyAll();
                }
            }
        }
    }

    private static String names(Collection<Task> tasks) {
        return tasks.stream().map(t -> t.name).collect(Collectors.joining(", "));
    }

    /** One task's part of a training step: its window grown by the coalesced batches and the version it would get. */
    private record Step(Task task, List<Pending> batches, TaskState before, TaskState grown, long version, TrainConfig cfg) {
    }

    /**
     * Trains the tasks taken together (one batched step; {@code laai.trainer.tasks-per-step}) on
     * their windows grown by their coalesced batches, and records each outcome. Should the batched
     * training fail, each task is trained alone, so a failure is charged to the task that caused it.
     */
    private void process(Map<Task, List<Pending>> taken) {
        List<Step> steps = new ArrayList<>();
        for (Map.Entry<Task, List<Pending>> e : taken.entrySet()) {
            Task t = e.getKey();
            List<Pending> batches = new ArrayList<>(e.getValue());
            batches.sort(Comparator.comparingLong(Pending::offset));
            if (t.orphan != null) {
                batches = adopt(t, batches);
            }
            if (!batches.isEmpty() && t.state.attempts() >= settings.maxAttempts()
                    && batches.get(0).offset() <= t.state.attemptOffset()) {
                batches = crashed(t, batches);
            }
            if (batches.isEmpty()) {
                continue;
            }
            TaskState before = t.state;
            TaskState grown = grow(before, batches, before.version(), "training");
            long version = Math.max(before.version(), t.latest == null ? 0 : t.latest.version()) + 1;
            TrainConfig cfg;
            try {
                cfg = settings.defaults().with(grown.config());
            } catch (IllegalArgumentException bad) { // each batch's settings were valid; together they are not
                failed(new Step(t, batches, before, grown, version, null), bad);
                continue;
            }
            steps.add(new Step(t, batches, before, grown, version, cfg));
            events.send(events.of(t.name, "started").put("version", version).put("demonstrations", grown.window().size())
                    .put("batches", batches.size()).put("partition", grown.partition()).put("offset", grown.offset())
                    .put("tasks_in_step", taken.size()));
        }
        if (steps.isEmpty()) {
            return;
        }
        try {
            long start = System.nanoTime();
            long deadline = start + settings.maxTraining().toNanos();
            List<TrainResult> results = null;
            // A task retried after a crash trains alone, so a poison batch takes no other task down with it again.
            boolean together = steps.size() > 1 && steps.stream().allMatch(st -> st.before.attempts() == 0);
            if (together) {
                steps.forEach(this::attempting);
                try {
                    results = trainer.trainMany(steps.stream().map(s -> new Trainer.Job(s.task.name, s.version,
                            s.grown.window(), s.cfg, s.task.latest, progress(s.task.name, s.version, deadline))).toList(),
                            progress(null, 0, deadline));
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
                            attempting(step);
                        }
                        result = trainer.train(step.task.name, step.version, step.grown.window(), step.cfg, step.task.latest,
                                progress(step.task.name, step.version, deadline));
                    } catch (TrainingProgress.Cancelled e) {
                        throw e;
                    } catch (RuntimeException e) {
                        failed(step, e);
                        continue;
                    }
                }
                finish(step, result, System.nanoTime() - start);
            }
        } catch (TrainingProgress.Cancelled e) {
            // A shutdown is not a crash: the attempts recorded for these trainings are taken back.
            for (Step step : steps) {
                if (step.task.state.attempts() > step.before.attempts()) {
                    writeState(step.task, step.before);
                }
            }
            throw e;
        }
    }

    /**
     * Records, before a training starts, that it is being attempted: should the process die during
     * it, the restarted owner counts the attempt and stops after laai.trainer.max-attempts.
     */
    private void attempting(Step step) {
        Task t = step.task;
        writeState(t, t.state.attempting(step.grown.partition(), step.batches.get(0).offset(), step.grown.offset()));
    }

    /**
     * The batches a training the process died in, max-attempts times, covered: dead-lettered as
     * training-crashed with the window as it was; the batches after them go on.
     */
    private List<Pending> crashed(Task t, List<Pending> batches) {
        long upTo = t.state.attemptOffset();
        List<Pending> poison = batches.stream().filter(p -> p.offset() <= upTo).toList();
        String reason = "the trainer process ended during " + t.state.attempts() + " trainings of these batches "
                + "(laai.trainer.max-attempts is " + settings.maxAttempts() + ")";
        metrics.rejected(TRAINING_CRASHED);
        LOG.warnf("Task %s: %s; dead-lettering %d batches up to offset %d", t.name, reason, poison.size(), upTo);
        for (Pending p : poison) {
            ProducerRecord<String, byte[]> dead = deadLetter(p.record, TRAINING_CRASHED, reason);
            dead.headers().add("laai-attempts", Integer.toString(t.state.attempts()).getBytes(StandardCharsets.UTF_8));
            sendAndWait(dead);
        }
        Pending last = poison.get(poison.size() - 1);
        TaskState after = new TaskState(t.name, t.state.version(), t.state.window(), t.state.config(),
                last.record.partition(), last.offset(), "crashed");
        record(t, after, poison, events.of(t.name, "failed").put("reason", reason).put("code", TRAINING_CRASHED)
                .put("offset", last.offset()).put("attempts", t.state.attempts()));
        return batches.stream().filter(p -> p.offset() > upTo).collect(Collectors.toList());
    }

    /** The batches cannot be trained on: park them in the DLQ and keep the window as it was. */
    private void failed(Step step, RuntimeException e) {
        Task t = step.task;
        String reason = "training failed: " + e.getMessage();
        metrics.rejected("training-failed");
        LOG.infof("Task %s: %s", t.name, reason);
        for (Pending p : step.batches) {
            sendAndWait(deadLetter(p.record, "training-failed", reason));
        }
        TaskState failed = new TaskState(t.name, step.before.version(), step.before.window(), step.before.config(),
                step.grown.partition(), step.grown.offset(), "failed");
        record(t, failed, step.batches, events.of(t.name, "failed").put("reason", reason).put("offset", step.grown.offset()));
    }

    /** Gate, then publish or reject, then record. */
    private void finish(Step step, TrainResult result, long nanos) {
        Task t = step.task;
        List<Pending> batches = step.batches;
        TaskState before = step.before;
        TaskState grown = step.grown;
        long version = step.version;
        String at = Long.toString(grown.offset());
        metrics.training.record(nanos, TimeUnit.NANOSECONDS);
        boolean previousValidated = t.latest != null
                && Double.isFinite(parse(t.latest.metadata().get("val_accuracy")));
        boolean allowUnvalidated = batches.stream().anyMatch(p -> p.batch.allowUnvalidated());
        Optional<String> refusal = settings.gate() ? PublishGate.refusal(result, previousValidated, allowUnvalidated)
                : Optional.empty();
        ObjectNode outcome;
        TaskState after;
        if (refusal.isEmpty()) {
            Intervention iv = result.intervention().withMetadata(Map.of(SOURCE_PARTITION, Integer.toString(grown.partition()),
                    SOURCE_OFFSET, at, "trainer", settings.instanceId()));
            sendAndWait(KafkaPublisher.record(Topics.INTERVENTIONS, t.name, Artifacts.encode(iv), Artifacts.headers(iv)));
            t.latest = iv;
            after = grow(before, batches, version, "published");
            outcome = events.of(t.name, "published").put("version", version);
            metrics.published.increment();
            long now = System.currentTimeMillis();
            long oldest = 0;
            for (Pending p : batches) {
                long latency = Math.max(0, now - p.record.timestamp());
                metrics.latency.record(latency, TimeUnit.MILLISECONDS);
                oldest = Math.max(oldest, latency);
            }
            outcome.put("latency_ms", oldest);
            LOG.infof("Task %s version %d published (%d demonstrations, %d ms training, held-out accuracy %.2f vs base %.2f)",
                    t.name, version, grown.window().size(), result.millis(), result.valAccuracy(), result.baseValAccuracy());
        } else {
            metrics.rejected("gate");
            after = grow(before, batches, before.version(), "rejected");
            outcome = events.of(t.name, "rejected").put("version", version).put("reason", refusal.get());
            LOG.infof("Task %s: candidate version %d rejected: %s", t.name, version, refusal.get());
        }
        outcome.put("partition", grown.partition()).put("offset", grown.offset()).put("batches", batches.size())
                .put("demonstrations", grown.window().size()).put("millis", result.millis()).put("steps", result.steps())
                .put("train_loss", result.trainLoss()).put("val_accuracy", result.valAccuracy())
                .put("base_val_accuracy", result.baseValAccuracy())
                .put("previous_val_accuracy", result.previousValAccuracy())
                .put("time_limited", "true".equals(result.intervention().metadata().get("time_limited")));
        record(t, after, batches, outcome);
    }

    private static double parse(String number) {
        try {
            return number == null ? Double.NaN : Double.parseDouble(number);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** Batches an orphan artifact already covers become part of the state without training again. */
    private List<Pending> adopt(Task t, List<Pending> batches) {
        List<Pending> covered = batches.stream().filter(p -> p.offset() <= t.orphan.offset()).toList();
        List<Pending> rest = batches.stream().filter(p -> p.offset() > t.orphan.offset()).collect(Collectors.toList());
        if (covered.isEmpty()) {
            return rest;
        }
        boolean complete = covered.get(covered.size() - 1).offset() == t.orphan.offset();
        TaskState s = grow(t.state, covered, complete ? t.orphan.version() : t.state.version(),
                complete ? "published" : "adopting");
        record(t, s, covered, events.of(t.name, complete ? "published" : "adopting").put("version", t.orphan.version())
                .put("offset", s.offset()).put("adopted", true));
        if (complete) {
            t.orphan = null;
        }
        return rest;
    }

    private TaskState grow(TaskState s, List<Pending> batches, long version, String outcome) {
        List<io.laai.train.Demonstration> window = s.window();
        Map<String, String> config = new LinkedHashMap<>(s.config());
        for (Pending p : batches) {
            window = TaskState.window(window, p.batch, settings.window());
            config.putAll(p.batch.config());
        }
        Pending last = batches.get(batches.size() - 1);
        return new TaskState(s.task(), version, window, config, last.record.partition(), last.offset(), outcome);
    }

    /** The state, then the outcome event, both acknowledged; then the batches count as accounted for. */
    private void record(Task t, TaskState state, List<Pending> batches, ObjectNode event) {
        writeState(t, state);
        sendAndWait(events.record(t.name, event));
        for (Pending p : batches) {
            accounted(new TopicPartition(p.record.topic(), p.record.partition()), p.offset());
        }
    }

    /** The task's state on laai.trainer-state, acknowledged, then held as the task's current state. */
    private void writeState(Task t, TaskState state) {
        sendAndWait(KafkaPublisher.record(Topics.TRAINER_STATE, t.name, state.toJson(), Map.of("content-type", "application/json")));
        t.state = state;
    }

    private TrainingProgress progress(String task, long version, long deadline) {
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
                if (task != null && step % settings.progressEvery() == 0) {
                    events.send(events.of(task, "progress").put("version", version).put("step", step)
                            .put("loss", crossEntropy).put("objective", objective));
                }
            }

            @Override
            public boolean cancelled() {
                return closing;
            }
        };
    }

    // ---- records --------------------------------------------------------------------------------

    /** DESIGN.md's DLQ record: original key and bytes, the reason and where the record came from in headers. */
    static ProducerRecord<String, byte[]> deadLetter(ConsumerRecord<String, byte[]> r, String code, String detail) {
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(Topics.DEMONSTRATIONS_DLQ, r.key(), r.value());
        for (Header h : r.headers()) {
            out.headers().add(h);
        }
        String d = detail == null ? code : detail.length() <= MAX_DETAIL_CHARS ? detail : detail.substring(0, MAX_DETAIL_CHARS);
        Map<String, String> reason = new LinkedHashMap<>();
        reason.put("laai-error", code);
        reason.put("laai-error-detail", d);
        reason.put("laai-original-topic", r.topic());
        reason.put("laai-original-partition", Integer.toString(r.partition()));
        reason.put("laai-original-offset", Long.toString(r.offset()));
        reason.forEach((k, v) -> out.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        return out;
    }

    private void sendAndWait(ProducerRecord<String, byte[]> record) {
        KafkaPublisher.sendAndWait(producer, record, SEND_TIMEOUT);
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
        synchronized (lock) {
            lock.notifyAll();
        }
        if (poller.isAlive()) {
            join(poller, 120_000);
        } else if (poller.getState() == Thread.State.NEW) {
            worker.interrupt();
            consumer.close(Duration.ZERO);
            producer.close(Duration.ZERO);
        }
    }

    /** The trainer's meters, registered once per pipeline. */
    private static final class Metrics {
        final MeterRegistry registry;
        final io.micrometer.core.instrument.Counter consumed;
        final io.micrometer.core.instrument.Counter replayed;
        final io.micrometer.core.instrument.Counter published;
        final Timer training;
        final Timer latency;
        final AtomicLong lag = new AtomicLong();

        Metrics(MeterRegistry registry) {
            this.registry = registry;
            consumed = registry.counter("laai.trainer.batches.consumed");
            replayed = registry.counter("laai.trainer.batches.replayed");
            published = registry.counter("laai.trainer.versions.published");
            training = Timer.builder("laai.trainer.training").description("the training that produced a candidate version (shared by tasks trained together)")
                    .publishPercentiles(0.5, 0.95).register(registry);
            latency = Timer.builder("laai.trainer.batch.latency")
                    .description("from a batch's produce timestamp to its artifact's acknowledgement")
                    .publishPercentiles(0.5, 0.95).register(registry);
            registry.gauge("laai.trainer.consumer.lag", lag);
        }

        void rejected(String reason) {
            registry.counter("laai.trainer.batches.rejected", "reason", reason).increment();
        }
    }
}
