package io.laai.edge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;
import io.laai.kafka.EmbeddedKafkaBroker;
import io.laai.kafka.Topics;
import io.laai.model.LanguageModel;

/** The registry against a real broker and the real stories260K. */
class InterventionRegistryTest {

    @TempDir
    static Path dir;

    static EmbeddedKafkaBroker broker;
    static LanguageModel lm;
    static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        lm = LanguageModel.load(SharedData.stories260K(), Device.cpu()); // first: without the model nothing else starts
        broker = new EmbeddedKafkaBroker(dir, EmbeddedKafkaBroker.freePort(), EmbeddedKafkaBroker.freePort()).start();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            Topics.createMissing(admin, Topics.definitions(2, 2, Optional.empty()), 30_000);
        }
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    @AfterAll
    static void stop() {
        if (producer != null) {
            producer.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (lm != null) {
            lm.close();
        }
    }

    static Intervention artifact(String task, long version, String fingerprint) {
        float[] v = new float[64];
        v[(int) version % 64] = version;
        return new Intervention(task, version, Site.RESIDUAL, Positions.LAST, new TreeMap<>(Map.of(2, v)), fingerprint,
                64, 8, 8, Map.of());
    }

    static void send(String task, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(Topics.INTERVENTIONS, task, value)).get();
    }

    @Test
    void publishCommandPutsAnOfflineArtifactWhereEdgesReadIt() throws Exception {
        Path file = dir.resolve("published.safetensors");
        Artifacts.write(artifact("published", 9, lm.fingerprint()), file);
        try (InterventionRegistry registry = new InterventionRegistry(broker.bootstrapServers(), Topics.INTERVENTIONS, lm).start()) {
            int code = io.laai.cli.Main.commandLine().execute("publish", "--intervention", file.toString(),
                    "--bootstrap-servers", broker.bootstrapServers());
            assertEquals(0, code);
            await().atMost(Duration.ofSeconds(30)).until(() -> registry.get("published").isPresent());
            assertEquals(9, registry.get("published").orElseThrow().version());
        }
    }

    @Test
    void readsFromTheBeginningKeepsTheNewestValidVersionAndHandlesTombstones() throws Exception {
        send("early", Artifacts.encode(artifact("early", 1, lm.fingerprint())));
        send("early", Artifacts.encode(artifact("early", 2, lm.fingerprint())));
        try (InterventionRegistry registry = new InterventionRegistry(broker.bootstrapServers(), Topics.INTERVENTIONS, lm).start()) {
            await().atMost(Duration.ofSeconds(30)).until(registry::caughtUp);
            assertEquals(2, registry.get("early").orElseThrow().version(), "what was there before start is read");

            send("late", Artifacts.encode(artifact("late", 5, lm.fingerprint())));
            await().atMost(Duration.ofSeconds(30)).until(() -> registry.get("late").isPresent());
            Intervention taken = registry.get("late").orElseThrow();

            send("late", Artifacts.encode(artifact("late", 4, lm.fingerprint()))); // older: ignored
            send("late", Artifacts.encode(artifact("late", 6, lm.fingerprint())));
            await().atMost(Duration.ofSeconds(30)).until(() -> registry.get("late").orElseThrow().version() == 6);
            assertEquals(5, taken.version(), "a taken intervention is immutable");

            long rejectedBefore = registry.rejectedCount();
            send("foreign", Artifacts.encode(artifact("foreign", 1, "sha256:another-model")));
            send("garbage", new byte[] {1, 2, 3});
            send("mismatch", Artifacts.encode(artifact("other-task", 1, lm.fingerprint())));
            await().atMost(Duration.ofSeconds(30)).until(() -> registry.rejectedCount() == rejectedBefore + 3);
            assertFalse(registry.get("foreign").isPresent());
            assertFalse(registry.get("garbage").isPresent());
            assertFalse(registry.get("mismatch").isPresent());

            send("early", null);
            await().atMost(Duration.ofSeconds(30)).until(() -> registry.get("early").isEmpty());
            assertFalse(registry.all().containsKey("early"));
            assertTrue(registry.all().containsKey("late"));
            assertTrue(registry.failure().isEmpty());
        }
    }
}
