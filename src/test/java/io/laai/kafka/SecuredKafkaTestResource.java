package io.laai.kafka;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A real broker with a SASL_SSL listener (SCRAM-SHA-512 over TLS) for the whole service: the
 * certificate is made for this run by the JDK's keytool; the service gets only the secured
 * address and the client settings a user of a secured cluster would set.
 */
public class SecuredKafkaTestResource implements QuarkusTestResourceLifecycleManager {

    public static final String USER = "laai-service";
    public static final String PASSWORD = "scram-secret-for-tests";

    /** A broker keystore (PKCS12, CN=localhost) and a truststore holding its certificate. */
    public record Tls(Path keystore, String keystorePassword, Path truststore, String truststorePassword) {
    }

    private EmbeddedKafkaBroker broker;

    /** Generates the broker's key pair and certificate, and the clients' truststore, in dir. */
    public static Tls generate(Path dir) throws IOException, InterruptedException {
        Path keystore = dir.resolve("broker.p12");
        Path cert = dir.resolve("broker.pem");
        Path truststore = dir.resolve("truststore.p12");
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", "broker-ks-secret", "-keypass", "broker-ks-secret");
        keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", keystore.toString(), "-storepass", "broker-ks-secret",
                "-file", cert.toString());
        keytool("-importcert", "-noprompt", "-alias", "broker", "-file", cert.toString(), "-storetype", "PKCS12",
                "-keystore", truststore.toString(), "-storepass", "trust-secret");
        return new Tls(keystore, "broker-ks-secret", truststore, "trust-secret");
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool " + String.join(" ", args) + " failed: " + out);
        }
    }

    /** Starts a broker with a SASL_SSL listener and the test's SCRAM user. */
    public static EmbeddedKafkaBroker securedBroker(Path dir, Tls tls) {
        EmbeddedKafkaBroker b = new EmbeddedKafkaBroker(dir.resolve("kafka"), EmbeddedKafkaBroker.freePort(),
                EmbeddedKafkaBroker.freePort(), new EmbeddedKafkaBroker.SaslSsl(EmbeddedKafkaBroker.freePort(), tls.keystore(),
                        tls.keystorePassword())).start();
        b.addScramUser(USER, PASSWORD);
        return b;
    }

    /** What a client of the secured listener sets (without the kafka. prefix). */
    public static Map<String, String> clientSettings(EmbeddedKafkaBroker b, Tls tls, String password) {
        Map<String, String> s = new HashMap<>();
        s.put("bootstrap.servers", b.saslSslBootstrapServers());
        s.put("security.protocol", "SASL_SSL");
        s.put("sasl.mechanism", "SCRAM-SHA-512");
        s.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + USER
                + "\" password=\"" + password + "\";");
        s.put("ssl.truststore.location", tls.truststore().toString());
        s.put("ssl.truststore.password", tls.truststorePassword());
        s.put("ssl.truststore.type", "PKCS12");
        return s;
    }

    @Override
    public Map<String, String> start() {
        try {
            Path dir = Files.createTempDirectory("laai-secured-kafka");
            Tls tls = generate(dir);
            broker = securedBroker(dir, tls);
            Map<String, String> config = new HashMap<>();
            clientSettings(broker, tls, PASSWORD).forEach((k, v) -> config.put("kafka." + k, v));
            config.put("laai.kafka.embedded.enabled", "false");
            return config;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void stop() {
        if (broker != null) {
            broker.close();
        }
    }
}
