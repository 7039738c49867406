package io.laai.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.quarkus.runtime.configuration.ConfigurationException;

class EmbeddedKafkaBrokerTest {

    @TempDir
    Path dir;

    @Test
    void startsStopsAndKeepsDataAcrossRestart() throws Exception {
        int port = EmbeddedKafkaBroker.freePort();
        int controller = EmbeddedKafkaBroker.freePort();
        String value = "kept-" + UUID.randomUUID();
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, port, controller).start()) {
            produce(broker.bootstrapServers(), "survivor", value);
        }
        assertTrue(Files.exists(dir.resolve("meta.properties")), "log directory was formatted");
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, port, controller).start()) {
            List<String> values = consumeAll(broker.bootstrapServers(), "survivor", 1);
            assertEquals(List.of(value), values);
        }
    }

    @Test
    void portInUseIsOneClearLine() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("localhost"))) {
            EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, taken.getLocalPort(), EmbeddedKafkaBroker.freePort());
            ConfigurationException e = assertThrows(ConfigurationException.class, broker::start);
            assertEquals("laai.kafka.embedded.port=" + taken.getLocalPort()
                    + " is already in use by another process; stop it or set laai.kafka.embedded.port"
                    + " (env LAAI_KAFKA_EMBEDDED_PORT) to a free port", e.getMessage());
        }
    }

    @Test
    void unwritableDataDirNamesTheSetting() throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(file.resolve("kafka"), EmbeddedKafkaBroker.freePort(),
                EmbeddedKafkaBroker.freePort());
        ConfigurationException e = assertThrows(ConfigurationException.class, broker::start);
        assertTrue(e.getMessage().startsWith("laai.kafka.embedded.data-dir=" + file.resolve("kafka")), e.getMessage());
        assertTrue(e.getMessage().contains("LAAI_KAFKA_EMBEDDED_DATA_DIR"), e.getMessage());
    }

    static void produce(String bootstrap, String topic, String value) throws Exception {
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, "k", value)).get();
        }
    }

    static List<String> consumeAll(String bootstrap, String topic, int expected) {
        Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
        }
        return values;
    }
}
