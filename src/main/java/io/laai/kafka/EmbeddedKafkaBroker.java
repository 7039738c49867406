package io.laai.kafka;

import java.io.IOException;
import java.io.PrintStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;

import io.quarkus.runtime.configuration.ConfigurationException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;

/**
 * A real Apache Kafka broker (KRaft, combined broker and controller, one node) run in this JVM.
 * Its log directory is formatted once and reused, so what was produced survives a restart.
 * Plain class: the application's lifecycle bean and the test resource both drive it.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    /**
     * A second listener, SASL_SSL with SCRAM-SHA-512, as secured clusters (Confluent Cloud, MSK,
     * Strimzi) offer: the TLS key and certificate come from a PKCS12 keystore; users are added with
     * {@link #addScramUser}. The PLAINTEXT listener stays, for the broker itself.
     */
    public record SaslSsl(int port, Path keystore, String keystorePassword) {
    }

    private final Path dataDir;
    private final int port;
    private final int controllerPort;
    private final SaslSsl saslSsl;
    private KafkaRaftServer server;

    public EmbeddedKafkaBroker(Path dataDir, int port, int controllerPort) {
        this(dataDir, port, controllerPort, null);
    }

    public EmbeddedKafkaBroker(Path dataDir, int port, int controllerPort, SaslSsl saslSsl) {
        this.dataDir = dataDir.toAbsolutePath();
        this.port = port;
        this.controllerPort = controllerPort;
        this.saslSsl = saslSsl;
    }

    /** The SASL_SSL listener's address (null without one). */
    public String saslSslBootstrapServers() {
        return saslSsl == null ? null : "localhost:" + saslSsl.port();
    }

    /** Adds (or replaces) a SCRAM-SHA-512 user, through the PLAINTEXT listener. */
    public void addScramUser(String user, String password) {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                java.util.Map.of("bootstrap.servers", bootstrapServers()))) {
            admin.alterUserScramCredentials(java.util.List.of(new org.apache.kafka.clients.admin.UserScramCredentialUpsertion(
                    user, new org.apache.kafka.clients.admin.ScramCredentialInfo(
                            org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512, 4096), password)))
                    .all().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("Could not add SCRAM user " + user + ": " + e.getMessage(), e);
        }
    }

    public String bootstrapServers() {
        return "localhost:" + port;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Checks the settings, formats the log directory if it is new, and starts the broker. */
    public synchronized EmbeddedKafkaBroker start() {
        if (server != null) {
            return this;
        }
        ensureWritable(dataDir);
        ensureFree(port, "laai.kafka.embedded.port");
        ensureFree(controllerPort, "laai.kafka.embedded.controller-port");
        if (saslSsl != null) {
            ensureFree(saslSsl.port(), "the SASL_SSL listener's port");
        }
        Properties props = brokerProperties();
        KafkaConfig config = KafkaConfig.fromProps(props, false);
        if (!Files.exists(dataDir.resolve("meta.properties"))) {
            format();
        }
        KafkaRaftServer raft = new KafkaRaftServer(config, Time.SYSTEM);
        try {
            raft.startup();
        } catch (RuntimeException e) {
            safeShutdown(raft);
            throw e;
        }
        server = raft;
        return this;
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            safeShutdown(server);
            server = null;
        }
    }

    private static void safeShutdown(KafkaRaftServer raft) {
        raft.shutdown();
        raft.awaitShutdown();
    }

    private Properties brokerProperties() {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@localhost:" + controllerPort);
        p.put("listeners", "PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://localhost:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        if (saslSsl != null) {
            p.put("listeners", "PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort
                    + ",SASL_SSL://localhost:" + saslSsl.port());
            p.put("advertised.listeners", "PLAINTEXT://localhost:" + port + ",SASL_SSL://localhost:" + saslSsl.port());
            p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL");
            p.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
            p.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            p.put("listener.name.sasl_ssl.ssl.keystore.location", saslSsl.keystore().toAbsolutePath().toString());
            p.put("listener.name.sasl_ssl.ssl.keystore.password", saslSsl.keystorePassword());
            p.put("listener.name.sasl_ssl.ssl.keystore.type", "PKCS12");
        }
        p.put("log.dirs", dataDir.toString());
        // One node: every internal topic has one replica.
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("num.partitions", "1");
        // Compaction of laai.interventions should be visible quickly in a dev broker.
        p.put("log.cleaner.backoff.ms", "1000");
        // A trainer killed inside a transaction holds read_committed readers back until the broker
        // aborts it: look for expired transactions every second, not every ten.
        p.put("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000");
        return p;
    }

    private void format() {
        try {
            new Formatter()
                    .setClusterId(Uuid.randomUuid().toString())
                    .setNodeId(1)
                    .setControllerListenerName("CONTROLLER")
                    .setMetadataLogDirectory(dataDir.toString())
                    .setDirectories(Set.of(dataDir.toString()))
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .run();
        } catch (Exception e) {
            throw new ConfigurationException("Cannot format the embedded Kafka data directory " + dataDir
                    + ": " + e.getMessage() + " (set laai.kafka.embedded.data-dir to another directory)");
        }
    }

    static void ensureWritable(Path dir) {
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".write-check", "");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new ConfigurationException("laai.kafka.embedded.data-dir=" + dir + " is not a writable directory ("
                    + e.getClass().getSimpleName() + ": " + e.getMessage()
                    + "); set laai.kafka.embedded.data-dir (env LAAI_KAFKA_EMBEDDED_DATA_DIR) to one that is");
        }
    }

    static void ensureFree(int port, String setting) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName("localhost"), port));
        } catch (IOException e) {
            String env = "LAAI_" + setting.substring("laai.".length()).replace('.', '_').replace('-', '_').toUpperCase();
            throw new ConfigurationException(setting + "=" + port
                    + " is already in use by another process; stop it or set " + setting + " (env " + env
                    + ") to a free port");
        }
    }

    /** A port that was free a moment ago, for tests and ephemeral brokers. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName("localhost"))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("No free local port", e);
        }
    }
}
