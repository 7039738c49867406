package io.laai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.laai.kafka.Topics;

/**
 * The Kubernetes manifests and container files agree with the application: topics, settings,
 * ports, probe paths, images. Overlays are rendered with `kubectl kustomize` where kubectl is
 * installed, and always resolved structurally (resources exist, patches hit a resource).
 */
class DeployManifestsTest {

    static final YAMLMapper YAML = new YAMLMapper();
    static final Set<String> IMAGES = Set.of("laai/laai:0.1.0", "laai/laai:0.1.0-gpu");
    static final Set<String> OTHER_ENV = Set.of("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM",
            "KAFKA_SASL_JAAS_CONFIG", "KAFKA_SSL_TRUSTSTORE_TYPE", "KAFKA_SSL_TRUSTSTORE_LOCATION", "HF_HOME", "HF_TOKEN", "HF_ENDPOINT",
            "HF_HUB_CACHE", "JAVA_OPTS", "DJL_CACHE_DIR", "PYTORCH_FLAVOR", "PYTORCH_VERSION");

    @Test
    void cpuOverlay() throws Exception {
        List<JsonNode> docs = render("cpu");
        checkCommon(docs);
        JsonNode trainer = container(find(docs, "Deployment", "laai-trainer"));
        assertTrue(trainer.path("resources").path("limits").path("nvidia.com/gpu").isMissingNode());
        assertEquals("cpu", env(trainer).get("LAAI_DEVICE"));
        assertEquals("laai/laai:0.1.0", trainer.path("image").asText());
    }

    @Test
    void gpuOverlay() throws Exception {
        List<JsonNode> docs = render("gpu");
        checkCommon(docs);
        JsonNode trainer = container(find(docs, "Deployment", "laai-trainer"));
        assertEquals(1, trainer.path("resources").path("limits").path("nvidia.com/gpu").asInt());
        assertEquals("gpu", env(trainer).get("LAAI_DEVICE"));
        assertEquals("trainer", env(trainer).get("LAAI_ROLE"));
        assertEquals("laai/laai:0.1.0-gpu", trainer.path("image").asText());
        JsonNode edge = container(find(docs, "Deployment", "laai-edge"));
        assertTrue(edge.path("resources").path("limits").path("nvidia.com/gpu").isMissingNode(), "the edge stays on CPU");
    }

    @Test
    void composeFileAndDockerfilesAgree() throws Exception {
        JsonNode compose = YAML.readTree(Path.of("docker/compose.yaml").toFile());
        Set<String> known = envNames();
        for (String service : List.of("trainer", "edge")) {
            JsonNode s = compose.path("services").path(service);
            assertTrue(IMAGES.contains(s.path("image").asText()), service + " image " + s.path("image").asText());
            s.path("environment").fieldNames().forEachRemaining(name -> assertTrue(known.contains(name) || OTHER_ENV.contains(name),
                    "compose " + service + " sets unknown " + name));
        }
        assertEquals("kafka:9092", compose.path("services").path("edge").path("environment").path("KAFKA_BOOTSTRAP_SERVERS").asText());
        String jvm = Files.readString(Path.of("docker/Dockerfile.jvm"));
        String gpu = Files.readString(Path.of("docker/Dockerfile.gpu"));
        assertTrue(jvm.contains("-t laai/laai:0.1.0 ") && gpu.contains("-t laai/laai:0.1.0-gpu "), "image tags documented");
        assertTrue(jvm.contains("EXPOSE 8080") && gpu.contains("EXPOSE 8080"));
        assertTrue(gpu.contains("PYTORCH_FLAVOR=") && gpu.contains("-Dgpu"), "GPU image swaps the CPU libtorch for CUDA");
        assertTrue(jvm.contains("USER 185") && gpu.contains("USER 185"), "non-root");
    }

    /**
     * One KafkaUser per role, allowed exactly the topics, group and transactional ids its code
     * uses; each role's pod reads its own user's Secret, and the TLS settings point at the CA.
     */
    private void checkUsers(List<JsonNode> docs) {
        Map<String, Map<String, Set<String>>> expected = Map.of(
                "laai-trainer", Map.of(
                        "topic:" + Topics.DEMONSTRATIONS, Set.of("Describe", "Read", "Write"),
                        "group:laai-trainer", Set.of("Describe", "Read"),
                        "topic:" + Topics.INTERVENTIONS, Set.of("Describe", "Read", "Write"),
                        "topic:" + Topics.TRAINER_STATE, Set.of("Describe", "Read", "Write"),
                        "topic:" + Topics.TRAINING_EVENTS, Set.of("Describe", "Write"),
                        "topic:" + Topics.DEMONSTRATIONS_DLQ, Set.of("Describe", "Write"),
                        "transactionalId:laai-trainer-", Set.of("Describe", "Write")),
                "laai-edge", Map.of(
                        "topic:" + Topics.DEMONSTRATIONS, Set.of("Describe", "Write"),
                        "topic:" + Topics.INTERVENTIONS, Set.of("Describe", "Read", "Write")));
        expected.forEach((user, acls) -> {
            JsonNode u = find(docs, "KafkaUser", user);
            assertEquals("scram-sha-512", u.path("spec").path("authentication").path("type").asText(), user);
            Map<String, Set<String>> actual = new LinkedHashMap<>();
            for (JsonNode acl : u.path("spec").path("authorization").path("acls")) {
                Set<String> ops = new java.util.TreeSet<>();
                acl.path("operations").forEach(o -> ops.add(o.asText()));
                actual.put(acl.path("resource").path("type").asText() + ":" + acl.path("resource").path("name").asText(), ops);
            }
            assertEquals(expected.get(user), actual, user + "'s ACLs");
            Map<String, String> env = new LinkedHashMap<>();
            for (JsonNode e : container(find(docs, "Deployment", user)).path("env")) {
                if (e.path("name").asText().equals("KAFKA_SASL_JAAS_CONFIG")) {
                    env.put("secret", e.path("valueFrom").path("secretKeyRef").path("name").asText());
                }
            }
            assertEquals(user, env.get("secret"), user + " reads its own credentials");
        });
        JsonNode config = find(docs, "ConfigMap", "laai-config").path("data");
        assertEquals("SASL_SSL", config.path("KAFKA_SECURITY_PROTOCOL").asText());
        assertEquals("SCRAM-SHA-512", config.path("KAFKA_SASL_MECHANISM").asText());
        String ca = config.path("KAFKA_SSL_TRUSTSTORE_LOCATION").asText();
        for (String name : List.of("laai-trainer", "laai-edge")) {
            JsonNode c = container(find(docs, "Deployment", name));
            boolean mounted = false;
            for (JsonNode m : c.path("volumeMounts")) {
                mounted |= ca.startsWith(m.path("mountPath").asText() + "/");
            }
            assertTrue(mounted, name + " mounts the cluster CA at " + ca);
        }
    }

    private void checkCommon(List<JsonNode> docs) {
        // Topics: exactly the application's, interventions and trainer-state compacted, demonstrations bounding trainer parallelism.
        Map<String, JsonNode> topics = new LinkedHashMap<>();
        for (JsonNode d : docs) {
            if (d.path("kind").asText().equals("KafkaTopic")) {
                String name = d.path("spec").path("topicName").asText(d.path("metadata").path("name").asText());
                topics.put(name, d.path("spec"));
                assertEquals("laai-kafka", d.path("metadata").path("labels").path("strimzi.io/cluster").asText(), name);
            }
        }
        assertEquals(Set.copyOf(Topics.ALL), topics.keySet());
        assertEquals("compact", topics.get(Topics.INTERVENTIONS).path("config").path("cleanup.policy").asText());
        assertEquals("compact", topics.get(Topics.TRAINER_STATE).path("config").path("cleanup.policy").asText());
        assertFalse(topics.get(Topics.DEMONSTRATIONS).path("config").has("cleanup.policy"), "demonstrations retained by time");
        JsonNode kafka = find(docs, "Kafka", "laai-kafka");
        assertEquals("enabled", kafka.path("metadata").path("annotations").path("strimzi.io/kraft").asText());
        JsonNode pool = find(docs, "KafkaNodePool", "dual-role");
        assertTrue(pool.path("spec").path("roles").toString().contains("controller"));
        JsonNode listener = kafka.path("spec").path("kafka").path("listeners").get(0);
        int listenerPort = listener.path("port").asInt();
        assertTrue(listener.path("tls").asBoolean(), "the listener uses TLS");
        assertEquals("scram-sha-512", listener.path("authentication").path("type").asText());
        assertEquals("simple", kafka.path("spec").path("kafka").path("authorization").path("type").asText(), "ACLs enforced");
        assertTrue(kafka.path("spec").path("entityOperator").has("userOperator"), "the User Operator makes the KafkaUsers' Secrets");
        checkUsers(docs);
        JsonNode config = find(docs, "ConfigMap", "laai-config").path("data");
        assertEquals("laai-kafka-kafka-bootstrap:" + listenerPort, config.path("KAFKA_BOOTSTRAP_SERVERS").asText());
        assertEquals("false", config.path("LAAI_KAFKA_TOPICS_CREATE").asText(), "Strimzi owns the topics");

        Set<String> known = envNames();
        config.fieldNames().forEachRemaining(n -> assertTrue(known.contains(n) || OTHER_ENV.contains(n), "ConfigMap sets unknown " + n));
        find(docs, "Secret", "laai-secrets").path("stringData").fieldNames()
                .forEachRemaining(n -> assertTrue(known.contains(n) || OTHER_ENV.contains(n), "Secret sets unknown " + n));

        JsonNode trainerDeployment = find(docs, "Deployment", "laai-trainer");
        int trainers = trainerDeployment.path("spec").path("replicas").asInt(1);
        assertTrue(topics.get(Topics.DEMONSTRATIONS).path("partitions").asInt() >= trainers);
        for (String name : List.of("laai-trainer", "laai-edge")) {
            JsonNode deployment = find(docs, "Deployment", name);
            JsonNode c = container(deployment);
            assertTrue(IMAGES.contains(c.path("image").asText()), name + " image " + c.path("image").asText());
            assertEquals(8080, c.path("ports").get(0).path("containerPort").asInt(), "quarkus.http.port");
            assertEquals("http", c.path("ports").get(0).path("name").asText());
            assertEquals("/q/health/live", c.path("livenessProbe").path("httpGet").path("path").asText());
            assertEquals("/q/health/ready", c.path("readinessProbe").path("httpGet").path("path").asText());
            assertEquals("/q/health/started", c.path("startupProbe").path("httpGet").path("path").asText());
            for (JsonNode e : c.path("env")) {
                String n = e.path("name").asText();
                assertTrue(known.contains(n) || OTHER_ENV.contains(n), name + " sets unknown " + n);
            }
            Map<String, String> env = env(c);
            Role.parse(env.get("LAAI_ROLE"));
            assertEquals(name.substring(5), env.get("LAAI_ROLE"));
            JsonNode selector = deployment.path("spec").path("selector").path("matchLabels");
            JsonNode labels = deployment.path("spec").path("template").path("metadata").path("labels");
            selector.fields().forEachRemaining(l -> assertEquals(l.getValue(), labels.get(l.getKey()), name + " selector"));
        }
        JsonNode edgeLabels = find(docs, "Deployment", "laai-edge").path("spec").path("template").path("metadata").path("labels");
        JsonNode service = find(docs, "Service", "laai-edge");
        assertEquals("http", service.path("spec").path("ports").get(0).path("targetPort").asText());
        service.path("spec").path("selector").fields().forEachRemaining(l -> assertEquals(l.getValue(), edgeLabels.get(l.getKey())));
        assertEquals("laai-edge", find(docs, "HorizontalPodAutoscaler", "laai-edge").path("spec").path("scaleTargetRef").path("name").asText());
        find(docs, "PodDisruptionBudget", "laai-edge").path("spec").path("selector").path("matchLabels").fields()
                .forEachRemaining(l -> assertEquals(l.getValue(), edgeLabels.get(l.getKey())));
        assertNotNull(find(docs, "NetworkPolicy", "laai-edge"));
        JsonNode pvc = find(docs, "PersistentVolumeClaim", "laai-model-cache");
        assertNotNull(pvc);
        assertEquals(config.path("HF_HOME").asText(), "/var/cache/laai/huggingface");
    }

    /** Renders an overlay: structurally always; with kubectl kustomize as well where kubectl exists. */
    private List<JsonNode> render(String overlay) throws Exception {
        List<JsonNode> structural = resolve(Path.of("k8s/overlays", overlay));
        List<JsonNode> rendered = kustomize(Path.of("k8s/overlays", overlay));
        if (rendered == null) {
            return structural;
        }
        Set<String> a = new HashSet<>();
        structural.forEach(d -> a.add(d.path("kind").asText() + "/" + d.path("metadata").path("name").asText()));
        Set<String> b = new HashSet<>();
        rendered.forEach(d -> b.add(d.path("kind").asText() + "/" + d.path("metadata").path("name").asText()));
        assertEquals(a, b, "structural resolution and kustomize agree on the resources");
        return rendered;
    }

    private static List<JsonNode> kustomize(Path dir) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectErrorStream(false).start();
        } catch (IOException e) {
            System.err.println("kubectl not found: checking " + dir + " structurally only");
            return null;
        }
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "kubectl kustomize " + dir + ": " + err);
        return readAll(new String(out, StandardCharsets.UTF_8));
    }

    /** Resources of a kustomization and everything below it; each patch must name a resource. */
    private static List<JsonNode> resolve(Path dir) throws IOException {
        JsonNode k = YAML.readTree(dir.resolve("kustomization.yaml").toFile());
        List<JsonNode> docs = new ArrayList<>();
        for (JsonNode r : k.path("resources")) {
            Path p = dir.resolve(r.asText()).normalize();
            assertTrue(Files.exists(p), dir + " names a missing resource " + r.asText());
            docs.addAll(Files.isDirectory(p) ? resolve(p) : readAll(Files.readString(p)));
        }
        for (JsonNode patch : k.path("patches")) {
            String kind;
            String name;
            if (patch.has("path")) {
                JsonNode target = YAML.readTree(dir.resolve(patch.path("path").asText()).toFile());
                kind = target.path("kind").asText();
                name = target.path("metadata").path("name").asText();
            } else {
                kind = patch.path("target").path("kind").asText();
                name = patch.path("target").path("name").asText();
            }
            assertNotNull(find(docs, kind, name), dir + " patches " + kind + "/" + name + ", which no resource defines");
        }
        return docs;
    }

    private static List<JsonNode> readAll(String yaml) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNext()) {
                JsonNode n = it.next();
                if (n != null && !n.isNull() && !n.isEmpty()) {
                    docs.add(n);
                }
            }
        }
        return docs;
    }

    private static JsonNode find(List<JsonNode> docs, String kind, String name) {
        return docs.stream().filter(d -> d.path("kind").asText().equals(kind)
                && d.path("metadata").path("name").asText().equals(name)).findFirst().orElse(null);
    }

    private static JsonNode container(JsonNode deployment) {
        return deployment.path("spec").path("template").path("spec").path("containers").get(0);
    }

    private static Map<String, String> env(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        container.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        return env;
    }

    /** Environment names of every laai.* key, read off LaaiConfig the way SmallRye Config maps them. */
    static Set<String> envNames() {
        Set<String> keys = new HashSet<>();
        collect(LaaiConfig.class, "laai", keys);
        Set<String> env = new HashSet<>();
        keys.forEach(k -> env.add(k.toUpperCase().replace('.', '_').replace('-', '_')));
        return env;
    }

    private static void collect(Class<?> type, String prefix, Set<String> keys) {
        for (Method m : type.getDeclaredMethods()) {
            String key = prefix + "." + m.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
            Class<?> r = m.getReturnType();
            if (r.isInterface() && r.getName().startsWith("io.laai")) {
                collect(r, key, keys);
            } else if (!(m.getGenericReturnType() instanceof ParameterizedType) || r == java.util.Optional.class) {
                keys.add(key);
            }
        }
    }
}
