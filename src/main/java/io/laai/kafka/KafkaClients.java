package io.laai.kafka;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.Config;

/**
 * The one place Kafka clients are built. Every client (the trainer's consumer and producers, the
 * registry, the compacted-topic readers, the API's publisher, the admin client, the CLI) gets every
 * {@code kafka.*} setting (bootstrap servers, security protocol, SASL, TLS, timeouts, ...), then
 * its role's overrides ({@code kafka.<role>.*}, roles {@link #ROLES}), then what the client itself
 * needs to work (its group, isolation, serializers), which no setting can break.
 */
public final class KafkaClients {

    /** Roles that may override settings: kafka.trainer.sasl.jaas.config applies to the trainer's clients only. */
    public static final List<String> ROLES = List.of("trainer", "edge", "admin", "cli");

    private final Map<String, String> common;
    private final Map<String, Map<String, String>> overrides;

    private KafkaClients(Map<String, String> settings) {
        Map<String, String> c = new TreeMap<>();
        Map<String, Map<String, String>> o = new HashMap<>();
        settings.forEach((k, v) -> {
            int dot = k.indexOf('.');
            String head = dot < 0 ? k : k.substring(0, dot);
            if (dot > 0 && ROLES.contains(head)) {
                o.computeIfAbsent(head, r -> new TreeMap<>()).put(k.substring(dot + 1), v);
            } else {
                c.put(k, v);
            }
        });
        if (!c.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
            throw new IllegalArgumentException("kafka.bootstrap.servers is not set (env KAFKA_BOOTSTRAP_SERVERS)");
        }
        this.common = Map.copyOf(c);
        this.overrides = Map.copyOf(o);
    }

    /** From client settings without the kafka. prefix (bootstrap.servers, security.protocol, trainer.client.id, ...). */
    public static KafkaClients of(Map<String, String> settings) {
        return new KafkaClients(settings);
    }

    public static KafkaClients of(String bootstrapServers) {
        return new KafkaClients(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /**
     * Every kafka.* key the configuration holds, from any source; environment variables count under
     * their dotted name (KAFKA_SASL_JAAS_CONFIG is kafka.sasl.jaas.config), as Quarkus maps them.
     */
    public static KafkaClients fromConfig(Config config) {
        TreeSet<String> names = new TreeSet<>();
        for (String name : config.getPropertyNames()) {
            if (name.startsWith("kafka.")) {
                names.add(name);
            } else if (envSetting(name) != null) {
                names.add("kafka." + envSetting(name));
            }
        }
        Map<String, String> settings = new HashMap<>();
        for (String name : names) {
            config.getOptionalValue(name, String.class).ifPresent(v -> settings.put(name.substring("kafka.".length()), v));
        }
        return new KafkaClients(settings);
    }

    /**
     * For the CLI: --kafka-config (a client properties file, as Kafka's own tools take), then
     * KAFKA_* environment variables, then --bootstrap-servers when given.
     */
    public static KafkaClients forCli(Path propertiesFile, Map<String, String> env, String bootstrapServers) {
        Map<String, String> settings = new HashMap<>();
        if (propertiesFile != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(propertiesFile)) {
                p.load(r);
            } catch (IOException e) {
                throw new IllegalArgumentException("--kafka-config " + propertiesFile + " cannot be read: " + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> settings.put(k, p.getProperty(k)));
        }
        env.forEach((k, v) -> {
            if (envSetting(k) != null) {
                settings.put(envSetting(k), v);
            }
        });
        if (bootstrapServers != null) {
            settings.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        }
        settings.putIfAbsent(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        return new KafkaClients(settings);
    }

    /** The client setting an environment variable names (KAFKA_SASL_JAAS_CONFIG → sasl.jaas.config), or null. */
    private static String envSetting(String name) {
        return name.startsWith("KAFKA_") && name.equals(name.toUpperCase(Locale.ROOT))
                ? name.substring("KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.') : null;
    }

    public String bootstrapServers() {
        return common.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    }

    /** kafka.* with the role's overrides and then the client's own settings on top. */
    public Map<String, Object> settings(String role, Map<String, ?> own) {
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("unknown Kafka client role " + role);
        }
        Map<String, Object> s = new HashMap<>(common);
        s.putAll(overrides.getOrDefault(role, Map.of()));
        s.putAll(own);
        return s;
    }

    public KafkaConsumer<String, byte[]> consumer(String role, Map<String, ?> own) {
        Map<String, Object> s = settings(role, own);
        s.putIfAbsent(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(s, new StringDeserializer(), new ByteArrayDeserializer());
    }

    public KafkaProducer<String, byte[]> producer(String role, Map<String, ?> own) {
        return new KafkaProducer<>(settings(role, own), new StringSerializer(), new ByteArraySerializer());
    }

    public Admin admin(String role, Map<String, ?> own) {
        return Admin.create(settings(role, own));
    }
}
