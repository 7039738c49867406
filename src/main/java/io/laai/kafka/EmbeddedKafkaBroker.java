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

    private final Path dataDir;
    private final int port;
    private final int controllerPort;
    private KafkaRaftServer server;

    public EmbeddedKafkaBroker(Path dataDir, int port, int controllerPort) {
        this.dataDir = dataDir.toAbsolutePath();
        this.port = port;
        this.controllerPort = controllerPort;
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
