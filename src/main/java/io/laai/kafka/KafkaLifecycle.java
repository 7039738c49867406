package io.laai.kafka;

import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.laai.LaaiConfig;
import io.laai.Role;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;

/**
 * Brings Kafka up before anything uses it: validates the role, starts the embedded broker when
 * enabled, creates the topics, and owns the shared Admin client. It observes start-up ahead of
 * SmallRye Reactive Messaging (LIBRARY_BEFORE), so channels connect to a running broker.
 */
@ApplicationScoped
public class KafkaLifecycle {

    private static final Logger LOG = Logger.getLogger(KafkaLifecycle.class);
    private static final long ADMIN_TIMEOUT_MS = 30_000;

    @Inject
    LaaiConfig config;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private EmbeddedKafkaBroker broker;
    private Admin admin;

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) {
        Role.parse(config.role());
        LaaiConfig.Kafka.Embedded embedded = config.kafka().embedded();
        if (embedded.enabled()) {
            broker = new EmbeddedKafkaBroker(Path.of(embedded.dataDir()), embedded.port(), embedded.controllerPort());
            broker.start();
            LOG.infof("Embedded Kafka broker (KRaft) listening on %s, data in %s", broker.bootstrapServers(),
                    broker.dataDir());
            if (!bootstrapServers.contains(":" + embedded.port())) {
                LOG.warnf("kafka.bootstrap.servers=%s does not point at the embedded broker on port %d",
                        bootstrapServers, embedded.port());
            }
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MS);
        admin = Admin.create(props);
        LaaiConfig.Kafka.Topics topics = config.kafka().topics();
        if (topics.create()) {
            createTopics(topics);
        }
    }

    private void createTopics(LaaiConfig.Kafka.Topics topics) {
        try {
            Set<String> created = Topics.createMissing(admin,
                    Topics.definitions(topics.partitions(), topics.interventionsPartitions(), topics.replicationFactor()),
                    ADMIN_TIMEOUT_MS);
            if (!created.isEmpty()) {
                LOG.infof("Created Kafka topics %s", created);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while creating Kafka topics", e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new ConfigurationException("Cannot create the LAAI topics on kafka.bootstrap.servers="
                    + bootstrapServers + ": " + cause.getMessage()
                    + " (check KAFKA_BOOTSTRAP_SERVERS, or set laai.kafka.topics.create=false where topics are managed elsewhere)");
        }
    }

    void onStop(@Observes @Priority(Interceptor.Priority.PLATFORM_AFTER) ShutdownEvent event) {
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(5));
        }
        if (broker != null) {
            broker.close();
        }
    }

    /** The shared Admin client, for health checks and topic operations. */
    public Admin admin() {
        return admin;
    }
}
