package io.laai.kafka;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.jboss.logging.Logger;

import io.laai.LaaiConfig;
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

    @Inject
    io.laai.Lifecycle lifecycle;


    private EmbeddedKafkaBroker broker;
    private Admin admin;

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) {
        LaaiConfig.Kafka.Embedded embedded = config.kafka().embedded();
        if (embedded.enabled()) {
            broker = new EmbeddedKafkaBroker(Path.of(embedded.dataDir()), embedded.port(), embedded.controllerPort());
            broker.start();
            lifecycle.opened("embedded Kafka broker", broker);
            LOG.infof("Embedded Kafka broker (KRaft) listening on %s, data in %s", broker.bootstrapServers(),
                    broker.dataDir());
            if (!clients().bootstrapServers().contains(":" + embedded.port())) {
                LOG.warnf("kafka.bootstrap.servers=%s does not point at the embedded broker on port %d",
                        clients().bootstrapServers(), embedded.port());
            }
        }
        admin = clients().admin("admin", java.util.Map.of(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MS));
        Admin opened = admin;
        lifecycle.opened("Kafka admin client", () -> opened.close(java.time.Duration.ofSeconds(5)));
        LaaiConfig.Kafka.Topics topics = config.kafka().topics();
        Set<String> created = connect(admin, clients().bootstrapServers(), topics.create() ? Topics.definitions(
                topics.partitions(), topics.interventionsPartitions(), topics.replicationFactor()) : List.of(), ADMIN_TIMEOUT_MS);
        if (!created.isEmpty()) {
            LOG.infof("Created Kafka topics %s", created);
        }
    }

    /**
     * Reaches the cluster and creates the missing topics: what start-up needs before any other
     * client connects. A cluster that cannot be reached or refuses the credentials stops start-up
     * with one line naming the cause and the settings to check.
     */
    public static Set<String> connect(Admin admin, String bootstrapServers, List<NewTopic> topics, long timeoutMs) {
        try {
            admin.describeCluster().clusterId().get(timeoutMs, TimeUnit.MILLISECONDS);
            return topics.isEmpty() ? Set.of() : Topics.createMissing(admin, topics, timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while connecting to Kafka", e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            String hint = cause instanceof org.apache.kafka.common.errors.SaslAuthenticationException
                    ? "the credentials were refused: check kafka.sasl.mechanism and kafka.sasl.jaas.config (env KAFKA_SASL_JAAS_CONFIG)"
                    : cause instanceof org.apache.kafka.common.errors.SslAuthenticationException
                            ? "the TLS handshake failed: check kafka.ssl.truststore.* (the cluster's CA) and kafka.security.protocol"
                            : cause instanceof org.apache.kafka.common.errors.AuthorizationException
                                    ? "the credentials lack a permission (an ACL): see the KafkaUser of this role in k8s/"
                                    : "check kafka.bootstrap.servers (env KAFKA_BOOTSTRAP_SERVERS) and that kafka.security.protocol"
                                            + " matches the listener (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)";
            throw new ConfigurationException("Cannot use the Kafka cluster at kafka.bootstrap.servers=" + bootstrapServers
                    + ": " + cause.getClass().getSimpleName() + ": " + cause.getMessage() + "; " + hint
                    + (topics.isEmpty() ? "" : " (laai.kafka.topics.create=false where topics are managed elsewhere)"));
        }
    }

    private volatile KafkaClients clients;

    /** Every Kafka client of the service is built from these: every kafka.* setting, then the role's overrides. */
    @jakarta.enterprise.inject.Produces
    @jakarta.inject.Singleton
    KafkaClients clients() {
        KafkaClients c = clients;
        if (c == null) {
            try {
                c = KafkaClients.fromConfig(org.eclipse.microprofile.config.ConfigProvider.getConfig());
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException(e.getMessage());
            }
            clients = c;
        }
        return c;
    }

    /** The shared Admin client, for health checks and topic operations. */
    public Admin admin() {
        return admin;
    }
}
