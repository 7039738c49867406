package io.laai.stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import io.laai.kafka.EmbeddedKafkaBroker;
import io.laai.kafka.Topics;
import io.laai.contract.DemonstrationBatch;
import io.laai.model.LanguageModel;
import io.laai.train.TrainConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The trainer role against a real broker (a fresh one per test) and the real stories260K: dead
 * letters, accounting for every batch, restarts, replays, orphans and a two-instance group.
 */
class TrainerPipelineTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Small fits so the tests measure the pipeline, not the optimiser. */
    // target_loss 0: every fit runs its steps, so progress events and time limits have steps to show
    private static final String FAST = "\"config\": {\"steps\": \"4\", \"validation\": \"none\", \"layers\": \"1\","
            + " \"target_loss\": \"0\"}";

    static LanguageModel lm;
    EmbeddedKafkaBroker broker;
    KafkaProducer<String, byte[]> producer;
    final List<TrainerPipeline> pipelines = new ArrayList<>();

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

    @BeforeEach
    void startBroker() throws Exception {
        Path dir = Files.createTempDirectory("laai-pipeline-test");
        broker = new EmbeddedKafkaBroker(dir, EmbeddedKafkaBroker.freePort(), EmbeddedKafkaBroker.freePort()).start();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            Topics.createMissing(admin, Topics.definitions(3, 1, Optional.empty()), 30_000);
        }
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    @AfterEach
    void stopBroker() {
        pipelines.forEach(TrainerPipeline::close);
        if (producer != null) {
            producer.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    TrainerPipeline start(String instance, DemonstrationBatch.Limits limits) {
        TrainerPipeline.Settings s = new TrainerPipeline.Settings(broker.bootstrapServers(), "trainers", instance, 16, limits,
                TrainConfig.DEFAULTS, true, 2, 2000, 4);
        TrainerPipeline p = new TrainerPipeline(lm, s, new SimpleMeterRegistry()).start();
        pipelines.add(p);
        return p;
    }

    TrainerPipeline start(TrainerPipeline.Settings s) {
        return start(s, new SimpleMeterRegistry());
    }

    TrainerPipeline start(TrainerPipeline.Settings s, SimpleMeterRegistry meters) {
        TrainerPipeline p = new TrainerPipeline(lm, s, meters).start();
        pipelines.add(p);
        return p;
    }

    TrainerPipeline.Settings settings(String instance) {
        return new TrainerPipeline.Settings(broker.bootstrapServers(), "trainers", instance, 16,
                DemonstrationBatch.Limits.DEFAULTS, TrainConfig.DEFAULTS, true, 2, 2000, 4);
    }

    /** A batch of several demonstrations, each {prompt, completion}. */
    static String batchOf(String task, List<String[]> demos, String extra) {
        StringBuilder b = new StringBuilder("{\"task\": \"" + task + "\", \"demonstrations\": [");
        for (int i = 0; i < demos.size(); i++) {
            b.append(i == 0 ? "" : ", ").append("{\"prompt\": \"").append(demos.get(i)[0]).append("\", \"completion\": \"")
                    .append(demos.get(i)[1]).append("\"}");
        }
        return b.append("]").append(extra.isEmpty() ? "" : ", " + extra).append("}").toString();
    }

    RecordMetadata send(String key, String value) throws Exception {
        return producer.send(new ProducerRecord<>(Topics.DEMONSTRATIONS, key, value == null ? null
                : value.getBytes(StandardCharsets.UTF_8))).get(10, TimeUnit.SECONDS);
    }

    static String batch(String task, String prompt, String completion, String extra) {
        return "{\"task\": \"" + task + "\", \"demonstrations\": [{\"prompt\": \"" + prompt + "\", \"completion\": \""
                + completion + "\"}]" + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    /** Everything committed on a topic now, from the beginning. */
    List<ConsumerRecord<String, byte[]>> read(String topic) {
        return read(topic, "read_committed");
    }

    /** Everything on a topic now, from the beginning, as a reader with that isolation level sees it. */
    List<ConsumerRecord<String, byte[]>> read(String topic, String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())
                    && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            return out;
        }
    }

    List<JsonNode> events(String type) {
        List<JsonNode> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : read(Topics.TRAINING_EVENTS)) {
            try {
                JsonNode n = JSON.readTree(r.value());
                if (type == null || n.path("event").asText().equals(type)) {
                    out.add(n);
                }
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        }
        return out;
    }

    List<Intervention> artifacts(String task) {
        return read(Topics.INTERVENTIONS).stream().filter(r -> r.key().equals(task) && r.value() != null)
                .map(r -> Artifacts.decode(r.value(), "test")).toList();
    }

    static String header(ConsumerRecord<String, byte[]> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Committed offsets of the trainers' group, per partition of laai.demonstrations. */
    Map<Integer, Long> committed() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets("trainers")
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Map<Integer, Long> out = new HashMap<>();
            m.forEach((tp, o) -> out.put(tp.partition(), o.offset()));
            return out;
        }
    }

    /** Every valid batch (partition, offset) lies in an outcome's range for its task: (previous outcome, outcome]. */
    void assertAccountedFor(Map<String, List<long[]>> validByTask) {
        Map<String, TreeMap<Long, String>> outcomes = new HashMap<>();
        for (JsonNode e : events(null)) {
            String type = e.path("event").asText();
            if (type.equals("published") || type.equals("rejected")) {
                outcomes.computeIfAbsent(e.path("task").asText(), k -> new TreeMap<>()).put(e.path("offset").asLong(), type);
            }
        }
        validByTask.forEach((task, batches) -> {
            TreeMap<Long, String> o = outcomes.get(task);
            assertNotNull(o, "no outcome for " + task);
            for (long[] b : batches) {
                assertNotNull(o.ceilingKey(b[1]), task + " batch at offset " + b[1] + " has no outcome");
            }
            long last = batches.stream().mapToLong(b -> b[1]).max().orElseThrow();
            assertEquals(last, o.lastKey(), task + ": the last outcome covers the last batch");
        });
    }

    @Test
    void aDemonstrationOverTheMemoryBudgetIsOversizeAndALargeWindowTrainsInChunks() throws Exception {
        // ~16 demonstrations of ~120 tokens (the 63 KB batch of the issue, scaled to stories260K's 512-token context).
        String words = "the little dog ran to the park and played with a red ball ".repeat(8).trim();
        List<String[]> many = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            many.add(new String[] {words + " number " + i, " Max"});
        }
        int shortTokens = lm.tokenizer().encode(many.get(0)[0] + " Max", true).length;
        var memory = new io.laai.model.MemoryEstimate(lm.config());
        long budget = 3 * memory.trainingBytes(1, shortTokens);
        TrainerPipeline trainer = start(settings("budget").withTraining(Duration.ofMinutes(5), budget));
        String fast = "\"config\": {\"steps\": \"3\", \"validation\": \"none\", \"layers\": \"1\"}";
        send("chunked", batchOf("chunked", many, fast));
        String longWords = "the little dog ran to the park and played with a red ball ".repeat(32).trim();
        assertTrue(memory.trainingBytes(1, lm.tokenizer().encode(longWords, true).length) > budget);
        RecordMetadata big = send("too-long", batchOf("too-long", List.<String[]>of(new String[] {longWords, " Max"}), fast));
        await().atMost(Duration.ofSeconds(120)).until(() -> events("published").size() == 1 && read(Topics.DEMONSTRATIONS_DLQ).size() == 1);
        ConsumerRecord<String, byte[]> dead = read(Topics.DEMONSTRATIONS_DLQ).get(0);
        assertEquals("oversize", header(dead, "laai-error"));
        assertEquals(Long.toString(big.offset()), header(dead, "laai-original-offset"));
        assertTrue(header(dead, "laai-error-detail").contains("laai.trainer.memory-budget"), header(dead, "laai-error-detail"));
        Intervention v1 = artifacts("chunked").get(0);
        assertEquals("16", v1.metadata().get("demonstrations"), "the whole window trained, in chunks of rows");
        assertTrue(trainer.running());
    }

    @Test
    void aTrainingPastItsTimeLimitEndsWithItsBestSoFarAndFreesTheWorker() throws Exception {
        start(settings("clock").withTraining(Duration.ofMillis(400), Long.MAX_VALUE));
        send("slow", batch("slow", "The boy was named", " Max",
                "\"config\": {\"steps\": \"1000\", \"patience\": \"200\", \"validation\": \"none\", \"lambda1\": \"0\", \"lambda2\": \"0\", \"target_loss\": \"0\"}"));
        send("after", batch("after", "The boy was named", " Max", FAST));
        await().atMost(Duration.ofSeconds(60)).until(() -> events("published").size() == 2);
        JsonNode slow = events("published").stream().filter(e -> e.path("task").asText().equals("slow")).findFirst().orElseThrow();
        assertTrue(slow.path("time_limited").asBoolean(), slow.toString());
        assertTrue(slow.path("steps").asInt() < 1000, slow.toString());
        assertEquals("true", artifacts("slow").get(0).metadata().get("time_limited"));
    }

    @Test
    void anUnvalidatedCandidateNeverReplacesAValidatedVersionUnlessTheBatchAllowsIt() throws Exception {
        start(settings("gate"));
        List<String[]> max = List.of(new String[] {"The boy was named", " Max"},
                new String[] {"Once upon a time, there was a boy named", " Max"}, new String[] {"One day, a little boy named", " Max"},
                new String[] {"In the park, a boy named", " Max"}, new String[] {"There was a happy boy named", " Max"});
        send("sky", batchOf("sky", max, ""));
        await().atMost(Duration.ofSeconds(120)).until(() -> events("published").size() == 1);
        assertTrue(Double.isFinite(Double.parseDouble(artifacts("sky").get(0).metadata().get("val_accuracy"))));
        send("sky", batch("sky", "The sky was", " green", "\"mode\": \"replace\""));
        await().atMost(Duration.ofSeconds(120)).until(() -> events("rejected").size() == 1);
        assertTrue(events("rejected").get(0).path("reason").asText().contains("cannot be validated"),
                events("rejected").get(0).toString());
        assertEquals(1, artifacts("sky").size(), "version 1 stays");
        send("sky", batch("sky", "The sky was", " green", "\"mode\": \"replace\", \"allow_unvalidated\": true"));
        await().atMost(Duration.ofSeconds(120)).until(() -> events("published").size() == 2);
        assertEquals(2, artifacts("sky").get(1).version());
    }

    /**
     * A poison batch: its training kills the trainer process (a child JVM halted mid-training by a
     * test hook). After laai.trainer.max-attempts such deaths it is dead-lettered as
     * training-crashed with its attempts, and the trainer goes on with the other task; no restart
     * loops on it. Static membership lets each restart take its partitions back at once.
     */
    @Test
    void aBatchWhoseTrainingKillsTheTrainerIsDeadLetteredAfterMaxAttempts() throws Exception {
        Path model = SharedData.stories260K();
        send(CrashingTrainer.POISON, batch(CrashingTrainer.POISON, "The boy was named", " Max", FAST));
        send("healthy", batch("healthy", "The girl was named", " Lily", FAST));
        Path log = Files.createTempFile("crashing-trainer", ".log");
        for (int run = 1; run <= 2; run++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                    "-cp", System.getProperty("java.class.path"), CrashingTrainer.class.getName(),
                    broker.bootstrapServers(), model.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            boolean ended = child.waitFor(150, TimeUnit.SECONDS);
            if (!ended) {
                child.destroyForcibly();
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(ended && child.exitValue() == 137, "run " + run + " should die in the poison training: "
                    + output.substring(Math.max(0, output.length() - 3000)));
        }
        assertTrue(artifacts(CrashingTrainer.POISON).isEmpty());

        TrainerPipeline survivor = new TrainerPipeline(lm, CrashingTrainer.settings(broker.bootstrapServers()),
                new SimpleMeterRegistry()).start();
        pipelines.add(survivor);
        await().atMost(Duration.ofSeconds(90)).until(() -> !read(Topics.DEMONSTRATIONS_DLQ).isEmpty()
                && !artifacts("healthy").isEmpty());
        List<ConsumerRecord<String, byte[]>> dlq = read(Topics.DEMONSTRATIONS_DLQ);
        assertEquals(1, dlq.size());
        assertEquals(CrashingTrainer.POISON, dlq.get(0).key());
        assertEquals(io.laai.contract.DeadLetters.TRAINING_CRASHED, header(dlq.get(0), "laai-error"));
        assertEquals("2", header(dlq.get(0), "laai-attempts"));
        assertTrue(header(dlq.get(0), "laai-error-detail").contains("laai.trainer.max-attempts"));
        List<Intervention> healthy = artifacts("healthy");
        assertEquals(1, healthy.size(), "the other task is trained once");
        assertTrue(artifacts(CrashingTrainer.POISON).isEmpty());
        assertTrue(survivor.running());
    }

    @Test
    void thousandMessagesEveryTenthMalformedInItsOwnWay() throws Exception {
        DemonstrationBatch.Limits limits = new DemonstrationBatch.Limits(8, 200, 100_000);
        TrainerPipeline trainer = start("t1", limits);
        List<String> malformed = List.of("invalid-json", "invalid-batch", "oversize", "fingerprint-mismatch", "invalid-batch");
        Map<String, List<long[]>> valid = new HashMap<>();
        Map<String, String> expected = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            String task = "task-" + (i % 7);
            String value;
            if (i % 10 == 9) {
                value = switch ((i / 10) % 5) {
                    case 0 -> "{\"task\": \"" + task + "\", \"demonstrations\": [";
                    case 1 -> "{\"task\": \"" + task + "\"}";
                    case 2 -> batch(task, "x".repeat(201), " y", FAST);
                    case 3 -> batch(task, "The boy was named", " Max", FAST + ", \"model_fingerprint\": \"sha256:other\"");
                    default -> batch(task, "The boy was named", "", FAST);
                };
            } else {
                value = batch(task, "The boy number " + i + " was named", " Max", FAST);
            }
            RecordMetadata m = send(task, value);
            if (i % 10 == 9) {
                expected.put(m.partition() + ":" + m.offset(), malformed.get((i / 10) % 5));
            } else {
                valid.computeIfAbsent(task, k -> new ArrayList<>()).add(new long[] {m.partition(), m.offset()});
            }
        }
        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500)).until(() -> {
            Map<Integer, Long> c = committed();
            return c.values().stream().mapToLong(Long::longValue).sum() == 1000;
        });
        assertTrue(trainer.running());

        List<ConsumerRecord<String, byte[]>> dlq = read(Topics.DEMONSTRATIONS_DLQ);
        assertEquals(100, dlq.size(), "every malformed message, once");
        for (ConsumerRecord<String, byte[]> r : dlq) {
            String at = header(r, "laai-original-partition") + ":" + header(r, "laai-original-offset");
            assertEquals(expected.get(at), header(r, "laai-error"), "reason of " + at + ": " + header(r, "laai-error-detail"));
            assertEquals(Topics.DEMONSTRATIONS, header(r, "laai-original-topic"));
            assertFalse(header(r, "laai-error-detail").isBlank());
            assertTrue(r.key().startsWith("task-"), "the original key");
        }
        assertAccountedFor(valid);
        Set<String> progressed = new HashSet<>();
        events("progress").forEach(e -> progressed.add(e.path("task").asText() + "@" + e.path("version").asLong()));
        List<JsonNode> started = events("started");
        assertTrue(started.stream().anyMatch(e -> e.path("tasks_in_step").asInt() > 1), "some tasks trained together");
        for (JsonNode p : events("published")) {
            String key = p.path("task").asText() + "@" + p.path("version").asLong();
            assertTrue(progressed.contains(key), "progress events for " + key);
        }
        for (String task : valid.keySet()) {
            List<Intervention> versions = artifacts(task);
            assertFalse(versions.isEmpty(), task);
            for (int i = 1; i < versions.size(); i++) {
                assertTrue(versions.get(i).version() > versions.get(i - 1).version(), task + " versions increase");
            }
        }
    }

    @Test
    void aTrainerStoppedMidTrainingLosesNothingAndAReplayDoublesNothing() throws Exception {
        String slow = "\"config\": {\"steps\": \"1000\", \"patience\": \"200\", \"validation\": \"none\", \"lambda1\": \"0\", \"lambda2\": \"0\", \"target_loss\": \"0\"}";
        TrainerPipeline first = start("first", DemonstrationBatch.Limits.DEFAULTS);
        RecordMetadata m = send("restart", batch("restart", "The boy was named", " Max", slow));
        await().atMost(Duration.ofSeconds(60)).until(() -> !events("progress").isEmpty());
        first.close();
        assertTrue(events("published").isEmpty(), "stopped before its outcome");
        assertTrue(artifacts("restart").isEmpty());

        TrainerPipeline second = start("second", DemonstrationBatch.Limits.DEFAULTS);
        await().atMost(Duration.ofSeconds(120)).until(() -> events("published").size() == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> committed().getOrDefault(m.partition(), 0L) == m.offset() + 1);
        second.close();
        List<Intervention> published = artifacts("restart");
        assertEquals(1, published.size());
        assertEquals(1, published.get(0).version());
        assertEquals("second", published.get(0).metadata().get("trainer"));

        // Replay everything from the start, as after a crash between the outcome and the commit.
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            admin.alterConsumerGroupOffsets("trainers", Map.of(new TopicPartition(Topics.DEMONSTRATIONS, m.partition()),
                    new OffsetAndMetadata(0))).all().get(10, TimeUnit.SECONDS);
        }
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        TrainerPipeline third = new TrainerPipeline(lm, new TrainerPipeline.Settings(broker.bootstrapServers(), "trainers",
                "third", 16, DemonstrationBatch.Limits.DEFAULTS, TrainConfig.DEFAULTS, true, 2, 2000, 4), meters).start();
        pipelines.add(third);
        await().atMost(Duration.ofSeconds(60)).until(() -> meters.counter("laai.trainer.batches.replayed").count() == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> committed().getOrDefault(m.partition(), 0L) == m.offset() + 1);
        assertEquals(1, artifacts("restart").size(), "the replay published nothing");
        assertEquals(1, events("published").size());
        assertEquals(1, events("started").stream().filter(e -> e.path("trainer").asText().equals("second")).count());
        assertTrue(events("started").stream().noneMatch(e -> e.path("trainer").asText().equals("third")));
    }

    @Test
    void anArtifactPublishedOfflineIsWarmStartedFromAndTheCountGoesOn() throws Exception {
        // `laai publish` put version 4 there; the trainer's next version is 5, trained on the batch.
        Intervention iv = new Intervention("offline", 4, io.laai.intervention.Site.ATTN_HEADS,
                io.laai.intervention.Positions.LAST, new TreeMap<>(Map.of(1, new float[lm.config().hiddenSize()])),
                lm.fingerprint(), lm.config().hiddenSize(), lm.config().numAttentionHeads(), lm.config().headDim(), Map.of());
        producer.send(new ProducerRecord<>(Topics.INTERVENTIONS, "offline", Artifacts.encode(iv))).get();
        start("after-publish", DemonstrationBatch.Limits.DEFAULTS);
        send("offline", batch("offline", "A boy was named", " Max", FAST));
        await().atMost(Duration.ofSeconds(60)).until(() -> events("published").size() == 1);
        assertEquals(5, events("published").get(0).path("version").asLong());
        assertEquals(1, events("started").size());
        List<Intervention> versions = artifacts("offline");
        assertEquals(5, versions.get(versions.size() - 1).version());
    }

    /**
     * What librdkafka's CRC32 partitioner (kcat, confluent-kafka-python, Go) or an explicit
     * partition does: one task's batches on every partition, with two trainers in the group. They
     * are forwarded to the task's own partition, so one owner trains them in order: one version
     * sequence, each version's window holds every demonstration sent before it, and no version
     * number appears twice, whether the topic is read with read_committed or read_uncommitted.
     */
    @Test
    void batchesOnEveryPartitionMakeOneVersionSequenceWithTwoTrainers() throws Exception {
        SimpleMeterRegistry ma = new SimpleMeterRegistry();
        SimpleMeterRegistry mb = new SimpleMeterRegistry();
        TrainerPipeline a = start(settings("a"), ma);
        TrainerPipeline b = start(settings("b"), mb);
        await().atMost(Duration.ofSeconds(60)).until(() -> a.assignments() > 0 && b.assignments() > 0);
        String task = "boy-named-max";
        int home = io.laai.contract.TaskId.home(task, 3);
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            int partition = (home + 1 + i) % 3; // the home partition only every third batch
            String prompt = "The boy number " + i + " was named";
            producer.send(new ProducerRecord<>(Topics.DEMONSTRATIONS, partition, task,
                    batch(task, prompt, " Max", FAST).getBytes(StandardCharsets.UTF_8))).get(10, TimeUnit.SECONDS);
            sent.add(prompt);
            if (i % 3 == 2) { // let some versions come out between the sends
                int published = i / 3 + 1;
                await().atMost(Duration.ofSeconds(60)).until(() -> events("published").size() >= published);
            }
        }
        await().atMost(Duration.ofSeconds(90)).until(() -> allCommitted() && finalWindow(task).size() == 9);
        assertEquals(6, forwarded(ma, mb), "every batch off its task's partition was forwarded once");
        for (String isolation : List.of("read_committed", "read_uncommitted")) {
            List<Long> versions = read(Topics.INTERVENTIONS, isolation).stream().filter(r -> r.value() != null)
                    .map(r -> Artifacts.decode(r.value(), "test").version()).toList();
            assertEquals(versions.stream().distinct().count(), versions.size(), isolation + ": a version twice: " + versions);
            for (int i = 1; i < versions.size(); i++) {
                assertTrue(versions.get(i) > versions.get(i - 1), isolation + ": versions increase: " + versions);
            }
        }
        Set<String> trainers = new HashSet<>();
        events("started").forEach(e -> trainers.add(e.path("trainer").asText()));
        assertEquals(1, trainers.size(), "one owner trained the task: " + trainers);
        // Each version's window: every demonstration sent before the last batch it covers, and only those.
        List<String> order = new ArrayList<>();
        List<Long> offsets = new ArrayList<>(); // transaction markers take offsets too
        for (ConsumerRecord<String, byte[]> r : read(Topics.DEMONSTRATIONS, "read_committed")) {
            if (r.partition() == home) {
                order.add(JSON.readTree(r.value()).path("demonstrations").get(0).path("prompt").asText());
                offsets.add(r.offset());
            }
        }
        assertEquals(9, order.size());
        assertEquals(Set.copyOf(sent), Set.copyOf(order), "the home partition holds every batch once");
        for (Intervention v : artifacts(task)) {
            int covered = offsets.indexOf(Long.parseLong(v.metadata().get(TrainingRound.SOURCE_OFFSET))) + 1;
            assertEquals(Integer.toString(home), v.metadata().get(TrainingRound.SOURCE_PARTITION));
            assertEquals(Integer.toString(covered), v.metadata().get("demonstrations"),
                    "version " + v.version() + " covers the first " + covered + " batches of the home partition");
        }
        assertEquals(Set.copyOf(sent), Set.copyOf(finalWindow(task)));
        assertQueuedBeforeStarted(task);
    }

    /** Every committed record of laai.demonstrations is below its partition's committed offset. */
    boolean allCommitted() throws Exception {
        Map<Integer, Long> last = new HashMap<>();
        read(Topics.DEMONSTRATIONS, "read_committed").forEach(r -> last.merge(r.partition(), r.offset(), Math::max));
        Map<Integer, Long> committed = committed();
        return last.entrySet().stream().allMatch(e -> committed.getOrDefault(e.getKey(), 0L) > e.getValue());
    }

    static double forwarded(SimpleMeterRegistry... meters) {
        double n = 0;
        for (SimpleMeterRegistry m : meters) {
            n += m.counter("laai.trainer.batches.forwarded").count();
        }
        return n;
    }

    /** The prompts of the task's window in its newest committed state. */
    List<String> finalWindow(String task) {
        List<String> prompts = new ArrayList<>();
        byte[] last = null;
        for (ConsumerRecord<String, byte[]> r : read(Topics.TRAINER_STATE, "read_committed")) {
            if (r.key().equals(task)) {
                last = r.value();
            }
        }
        if (last != null) {
            io.laai.contract.TaskState.fromJson(last).window().forEach(d -> prompts.add(d.prompt()));
        }
        return prompts;
    }

    /** Per task, events come as queued → started → progress → outcome: every started follows a queued. */
    void assertQueuedBeforeStarted(String task) {
        boolean queued = false;
        List<String> seen = new ArrayList<>();
        for (JsonNode e : events(null)) {
            if (!e.path("task").asText().equals(task)) {
                continue;
            }
            String type = e.path("event").asText();
            seen.add(type);
            if (type.equals("queued")) {
                queued = true;
            } else if (type.equals("started")) {
                assertTrue(queued, "started before any queued: " + seen);
                queued = false;
            } else if (type.equals("progress")) {
                assertTrue(seen.contains("started"), "progress before started: " + seen);
            }
        }
    }

    /**
     * A trainer killed inside its outcome's transaction (a child JVM halted by a test hook after the
     * artifact, state and offsets were sent, before the commit): nothing of it is visible to
     * read_committed readers, though the records are in the log; the restarted owner publishes
     * exactly one version.
     */
    @Test
    void aTrainerKilledInsideItsTransactionLeavesNoOutcomeAndTheNextOwnerPublishesOnce() throws Exception {
        send("killed", batch("killed", "The boy was named", " Max", FAST));
        Path log = Files.createTempFile("killed-in-transaction", ".log");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), CrashingTrainer.class.getName(),
                broker.bootstrapServers(), SharedData.stories260K().toString(), "commit").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        boolean ended = child.waitFor(150, TimeUnit.SECONDS);
        if (!ended) {
            child.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(ended && child.exitValue() == 137, "the child should die inside its transaction: "
                + output.substring(Math.max(0, output.length() - 3000)));
        assertTrue(output.contains("halting inside the transaction"), output);
        assertTrue(read(Topics.INTERVENTIONS, "read_committed").isEmpty(), "read_committed sees no artifact");
        assertEquals(1, read(Topics.INTERVENTIONS, "read_uncommitted").size(), "the artifact was written in the transaction");
        assertTrue(events("published").isEmpty());

        // The restart under the same instance id fences the dead producer and aborts its transaction.
        TrainerPipeline restarted = start(CrashingTrainer.settings(broker.bootstrapServers()));
        await().atMost(Duration.ofSeconds(90)).until(() -> events("published").size() == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> committed().values().stream().mapToLong(Long::longValue).sum() == 1);
        List<Intervention> published = artifacts("killed");
        assertEquals(1, published.size());
        assertEquals(1, published.get(0).version());
        assertEquals(2, read(Topics.INTERVENTIONS, "read_uncommitted").size(), "the aborted artifact and the committed one");
        assertTrue(restarted.running());
    }

    @Test
    void aTombstoneClearsTheTasksWindowAndTheVersionCountGoesOn() throws Exception {
        start("deleter", DemonstrationBatch.Limits.DEFAULTS);
        send("forget-me", batch("forget-me", "The boy was named", " Max", FAST));
        await().atMost(Duration.ofSeconds(60)).until(() -> events("published").size() == 1);
        send("forget-me", null);
        await().atMost(Duration.ofSeconds(60)).until(() -> events("deleted").size() == 1);
        assertEquals(1, events("deleted").get(0).path("version").asLong());
        assertTrue(finalWindow("forget-me").isEmpty(), "the window is cleared");
        send("forget-me", batch("forget-me", "The girl was named", " Lily", FAST));
        await().atMost(Duration.ofSeconds(60)).until(() -> events("published").size() == 2);
        List<ConsumerRecord<String, byte[]>> records = read(Topics.INTERVENTIONS, "read_committed");
        assertEquals(3, records.size(), "version 1, the trainer's tombstone, version 2");
        assertEquals(null, records.get(1).value());
        Intervention v2 = Artifacts.decode(records.get(2).value(), "test");
        assertEquals(2, v2.version(), "no version number is reused");
        assertEquals("1", v2.metadata().get("demonstrations"), "only what came after the deletion");
        assertEquals(List.of("The girl was named"), finalWindow("forget-me"));
        send("base", batch("base", "The boy was named", " Max", FAST));
        await().atMost(Duration.ofSeconds(30)).until(() -> read(Topics.DEMONSTRATIONS_DLQ).size() == 1);
        assertTrue(header(read(Topics.DEMONSTRATIONS_DLQ).get(0), "laai-error-detail").contains("reserved"));
    }

    @Test
    void twoTrainersInOneGroupShareTasksAndLoseNothingAcrossARebalance() throws Exception {
        TrainerPipeline a = start("a", DemonstrationBatch.Limits.DEFAULTS);
        TrainerPipeline b = start("b", DemonstrationBatch.Limits.DEFAULTS);
        await().atMost(Duration.ofSeconds(60)).until(() -> a.assignments() > 0 && b.assignments() > 0);
        Thread.sleep(1000); // let the cooperative rebalance settle
        List<String> tasks = twoTasksPerPartition(3); // whichever partitions each trainer got, both have tasks
        Map<String, List<long[]>> valid = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            String task = tasks.get(i % tasks.size());
            RecordMetadata m = send(task, batch(task, "The boy number " + i + " was named", " Max", FAST));
            valid.computeIfAbsent(task, k -> new ArrayList<>()).add(new long[] {m.partition(), m.offset()});
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> committed().values().stream().mapToLong(Long::longValue).sum() == 60);
        Map<String, Set<String>> trainersByTask = new HashMap<>();
        for (JsonNode e : events("started")) {
            trainersByTask.computeIfAbsent(e.path("task").asText(), k -> new HashSet<>()).add(e.path("trainer").asText());
        }
        trainersByTask.forEach((task, who) -> assertEquals(1, who.size(), task + " trained by " + who));
        Set<String> all = new HashSet<>();
        trainersByTask.values().forEach(all::addAll);
        assertEquals(Set.of("a", "b"), all, "both trainers got work");

        // Stop one mid-stream: its partitions move to the other; nothing is lost or published twice.
        for (int i = 60; i < 120; i++) {
            String task = tasks.get(i % tasks.size());
            RecordMetadata m = send(task, batch(task, "The boy number " + i + " was named", " Max", FAST));
            valid.get(task).add(new long[] {m.partition(), m.offset()});
            if (i == 70) {
                a.close();
            }
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> committed().values().stream().mapToLong(Long::longValue).sum() == 120);
        assertAccountedFor(valid);
        for (String task : valid.keySet()) {
            List<Long> versions = artifacts(task).stream().map(Intervention::version).toList();
            assertEquals(versions.stream().distinct().count(), versions.size(), task + " published a version twice: " + versions);
        }
    }

    /** Task ids that the default partitioner spreads two to each of the partitions. */
    static List<String> twoTasksPerPartition(int partitions) {
        List<String> out = new ArrayList<>();
        int[] count = new int[partitions];
        for (int i = 0; out.size() < 2 * partitions; i++) {
            String task = "shared-" + i;
            int p = org.apache.kafka.common.utils.Utils.toPositive(
                    org.apache.kafka.common.utils.Utils.murmur2(task.getBytes(StandardCharsets.UTF_8))) % partitions;
            if (count[p] < 2) {
                count[p]++;
                out.add(task);
            }
        }
        return out;
    }
}
