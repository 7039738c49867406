package io.laai.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.kafka.EmbeddedKafkaBroker;
import io.laai.kafka.Topics;
import io.laai.model.LanguageModel;
import io.laai.contract.DemonstrationBatch;
import io.laai.stream.TrainerPipeline;
import io.laai.train.Demonstration;
import io.laai.train.TaskFile;
import io.laai.train.TrainConfig;
import io.laai.train.Trainer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The streaming report of {@code bench --stream}: on a real embedded broker, the latency from a
 * batch's produce to its artifact's publication, the rate of the validation path, and what
 * training several tasks in one batched step would gain over one after another.
 */
final class StreamBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final LanguageModel lm;
    private final List<TaskFile.Task> tasks;
    private final int batches;
    private final int flood;

    StreamBench(LanguageModel lm, Path taskFile, int batches, int flood) {
        this.lm = lm;
        this.tasks = TaskFile.readTasks(taskFile);
        this.batches = batches;
        this.flood = flood;
    }

    void run() throws Exception {
        Path dir = Files.createTempDirectory("laai-bench-kafka");
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, EmbeddedKafkaBroker.freePort(),
                EmbeddedKafkaBroker.freePort()).start();
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
                KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all",
                        ProducerConfig.LINGER_MS_CONFIG, "5"), new StringSerializer(), new ByteArraySerializer())) {
            Topics.createMissing(admin, Topics.definitions(3, 1, Optional.empty()), 30_000);
            latency(broker.bootstrapServers(), producer);
            validationPath(broker.bootstrapServers(), producer);
        }
        batchedTraining();
    }

    /** Batches one at a time, each a task's demonstrations (mode replace, so every training sees the same window). */
    private void latency(String bootstrap, KafkaProducer<String, byte[]> producer) throws Exception {
        List<Double> latencies = new ArrayList<>();
        List<Double> training = new ArrayList<>();
        try (TrainerPipeline pipeline = pipeline(bootstrap, "bench-latency", 2000);
                KafkaConsumer<String, byte[]> events = consumer(bootstrap, Topics.TRAINING_EVENTS)) {
            while (pipeline.assignments() == 0) {
                Thread.sleep(10); // joining the group is start-up, not latency
            }
            for (int i = 0; i < batches; i++) {
                TaskFile.Task task = tasks.get(i % tasks.size());
                RecordMetadata m = send(producer, task.task(), task.train(), "replace");
                JsonNode outcome = await(events, task.task(), m.offset());
                if (outcome.path("event").asText().equals("published")) {
                    latencies.add(outcome.path("latency_ms").asDouble());
                    training.add(outcome.path("millis").asDouble());
                } else {
                    System.out.printf("batch %d (%s) was %s: %s%n", i, task.task(), outcome.path("event").asText(),
                            outcome.path("reason").asText());
                }
            }
        }
        System.out.printf("produce-to-published latency over %d batches of %d demonstrations: p50 %.0f ms, p95 %.0f ms"
                + " (training alone: p50 %.0f ms)%n", latencies.size(), tasks.get(0).train().size(),
                BenchCommand.percentile(latencies, 0.5), BenchCommand.percentile(latencies, 0.95),
                BenchCommand.percentile(training, 0.5));
    }

    /**
     * One slow batch keeps the worker busy while {@code flood} valid batches of the same task arrive:
     * they are validated and queued (they coalesce into one later training), which is the path
     * measured, in messages per second.
     */
    private void validationPath(String bootstrap, KafkaProducer<String, byte[]> producer) throws Exception {
        Map<String, String> slow = Map.of("steps", "100000", "patience", "100000", "validation", "none");
        TaskFile.Task task = tasks.get(0);
        String name = "flood";
        producer.send(record(name, task.train(), "append", slow)).get(10, TimeUnit.SECONDS);
        for (int i = 0; i < flood; i++) {
            producer.send(record(name, List.of(task.train().get(i % task.train().size())), "append", Map.of()));
        }
        producer.flush();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        TrainerPipeline.Settings s = settings(bootstrap, "bench-flood", flood + 10);
        try (TrainerPipeline pipeline = new TrainerPipeline(lm, s, meters).start()) {
            var consumed = meters.counter("laai.trainer.batches.consumed");
            while (consumed.count() < 1) {
                Thread.sleep(1);
            }
            long start = System.nanoTime();
            while (consumed.count() < flood + 1) {
                Thread.sleep(1);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("validation path: %d valid one-demonstration batches validated and queued in %.2f s: %.0f messages/s%n",
                    flood, seconds, flood / seconds);
        }
    }

    /**
     * Tasks per minute when every task of the file is trained (default settings, so with
     * leave-one-out validation) one after another, against all of them in one batched training.
     */
    private void batchedTraining() {
        Trainer trainer = new Trainer(lm);
        List<Trainer.Job> jobs = tasks.stream()
                .map(t -> new Trainer.Job(t.task(), 1, t.train(), TrainConfig.DEFAULTS, null, null)).toList();
        List<Double> sequential = new ArrayList<>();
        List<Double> batched = new ArrayList<>();
        trainer.trainMany(jobs, null); // warm-up
        for (int r = 0; r < 3; r++) {
            long start = System.nanoTime();
            for (Trainer.Job j : jobs) {
                trainer.trainMany(List.of(j), null);
            }
            sequential.add((System.nanoTime() - start) / 1e9);
            start = System.nanoTime();
            trainer.trainMany(jobs, null);
            batched.add((System.nanoTime() - start) / 1e9);
        }
        double one = BenchCommand.median(sequential);
        double many = BenchCommand.median(batched);
        System.out.printf("training %d tasks (default settings): one after another %.2f s (%.0f tasks/min),"
                + " together in batched steps %.2f s (%.0f tasks/min): %.2fx%n", jobs.size(), one, 60 * jobs.size() / one,
                many, 60 * jobs.size() / many, one / many);
    }

    private TrainerPipeline pipeline(String bootstrap, String group, int maxInFlight) {
        return new TrainerPipeline(lm, settings(bootstrap, group, maxInFlight), new SimpleMeterRegistry()).start();
    }

    private TrainerPipeline.Settings settings(String bootstrap, String group, int maxInFlight) {
        return new TrainerPipeline.Settings(bootstrap, group, group, 64, DemonstrationBatch.Limits.DEFAULTS,
                TrainConfig.DEFAULTS, true, 25, maxInFlight, 4);
    }

    private static ProducerRecord<String, byte[]> record(String task, List<Demonstration> demos, String mode,
            Map<String, String> config) {
        byte[] value = new DemonstrationBatch(task, demos, mode, null, config).toJson();
        return new ProducerRecord<>(Topics.DEMONSTRATIONS, task, value);
    }

    private static RecordMetadata send(KafkaProducer<String, byte[]> producer, String task, List<Demonstration> demos,
            String mode) throws Exception {
        return producer.send(record(task, demos, mode, Map.of())).get(10, TimeUnit.SECONDS);
    }

    private static KafkaConsumer<String, byte[]> consumer(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        c.assign(parts);
        c.seekToBeginning(parts);
        return c;
    }

    /** The outcome event (published, rejected or failed) of the batch at this offset. */
    private static JsonNode await(KafkaConsumer<String, byte[]> events, String task, long offset) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : events.poll(Duration.ofMillis(100))) {
                JsonNode e = JSON.readTree(new String(r.value(), StandardCharsets.UTF_8));
                String type = e.path("event").asText();
                if (e.path("task").asText().equals(task) && e.path("offset").asLong() == offset
                        && (type.equals("published") || type.equals("rejected") || type.equals("failed"))) {
                    return e;
                }
            }
        }
        throw new CliException("no outcome for " + task + " at offset " + offset + " within 5 minutes");
    }
}
