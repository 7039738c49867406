package io.laai.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.quarkus.runtime.configuration.ConfigurationException;

/**
 * Start-up against a SASL_SSL listener (SCRAM-SHA-512 over TLS): with the right settings every
 * client works; with a wrong password, or no truststore, start-up stops with one line that names
 * the cause and the settings to check.
 */
class SecuredKafkaClientsTest {

    static EmbeddedKafkaBroker broker;
    static SecuredKafkaTestResource.Tls tls;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("laai-secured");
        tls = SecuredKafkaTestResource.generate(dir);
        broker = SecuredKafkaTestResource.securedBroker(dir, tls);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    static String connect(Map<String, String> settings) {
        KafkaClients clients = KafkaClients.of(settings);
        try (Admin admin = clients.admin("admin", Map.of("default.api.timeout.ms", 15_000, "request.timeout.ms", 5_000))) {
            return String.join(",", KafkaLifecycle.connect(admin, clients.bootstrapServers(),
                    Topics.definitions(3, 1, Optional.empty()), 15_000));
        }
    }

    @Test
    void withTheCredentialsTheTopicsAreCreatedAndRead() {
        Map<String, String> good = SecuredKafkaTestResource.clientSettings(broker, tls, SecuredKafkaTestResource.PASSWORD);
        assertTrue(connect(good).contains(Topics.INTERVENTIONS));
        // The compacted-topic reader goes through the same factory.
        assertEquals(Map.of(), CompactedTopics.readLatest(KafkaClients.of(good), "edge", Topics.INTERVENTIONS,
                java.time.Duration.ofSeconds(30)));
    }

    @Test
    void aWrongPasswordStopsStartUpNamingTheSetting() {
        Map<String, String> bad = SecuredKafkaTestResource.clientSettings(broker, tls, "not-the-password");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> connect(bad));
        assertTrue(e.getMessage().contains("SaslAuthenticationException"), e.getMessage());
        assertTrue(e.getMessage().contains("kafka.sasl.jaas.config"), e.getMessage());
        assertTrue(e.getMessage().contains(broker.saslSslBootstrapServers()), e.getMessage());
    }

    @Test
    void noTruststoreStopsStartUpNamingTheTlsSettings() {
        Map<String, String> noTrust = new HashMap<>(
                SecuredKafkaTestResource.clientSettings(broker, tls, SecuredKafkaTestResource.PASSWORD));
        List.of("ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.type").forEach(noTrust::remove);
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> connect(noTrust));
        assertTrue(e.getMessage().contains("kafka.ssl.truststore"), e.getMessage());
    }
}
