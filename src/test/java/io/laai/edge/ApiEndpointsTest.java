package io.laai.edge;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.ModelService;
import io.laai.RequiresSharedData;
import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;
import io.laai.kafka.KafkaTestResource;
import io.laai.kafka.Topics;
import io.laai.model.GgufFile;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;

/** Downloads, deletion and the demonstration ingest, against the real broker. */
@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class ApiEndpointsTest {

    @Inject
    ModelService models;

    @Inject
    RegistryService registry;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    private Intervention publish(String task, Site site, Positions positions) throws Exception {
        float[] v = new float[64];
        v[5] = 2f;
        Intervention iv = new Intervention(task, 3, site, positions, new TreeMap<>(Map.of(2, v)), models.model().fingerprint(),
                64, 8, 8, Map.of());
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(Topics.INTERVENTIONS, task, Artifacts.encode(iv))).get();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> registry.get(task).isPresent());
        return registry.get(task).orElseThrow();
    }

    @Test
    void downloadsTheArtifactAndTheControlVector() throws Exception {
        Intervention iv = publish("dl-residual", Site.RESIDUAL, Positions.ALL);
        byte[] artifact = given().get("/v1/interventions/dl-residual/artifact").then().statusCode(200)
                .contentType(Artifacts.CONTENT_TYPE).header("laai-version", "3").extract().asByteArray();
        assertArrayEquals(iv.deltas().get(2), Artifacts.decode(artifact, "download").deltas().get(2));
        byte[] gguf = given().get("/v1/interventions/dl-residual/control-vector.gguf").then().statusCode(200)
                .extract().asByteArray();
        Path file = Files.createTempFile("cv", ".gguf");
        Files.write(file, gguf);
        assertEquals("controlvector", GgufFile.open(file).string("general.architecture"));
        publish("dl-heads", Site.ATTN_HEADS, Positions.LAST);
        given().get("/v1/interventions/dl-heads/control-vector.gguf").then().statusCode(409)
                .contentType("application/problem+json").body("detail", containsString("attn_heads"));
    }

    @Test
    void deletePublishesATombstone() throws Exception {
        publish("to-delete", Site.RESIDUAL, Positions.LAST);
        given().delete("/v1/interventions/to-delete").then().statusCode(202).body("topic", equalTo(Topics.INTERVENTIONS));
        await().atMost(Duration.ofSeconds(30)).until(() -> registry.get("to-delete").isEmpty());
        given().delete("/v1/interventions/to-delete").then().statusCode(404);
    }

    @Test
    void ingestProducesTheBatchAndSaysWhere() throws Exception {
        String task = "ingest-" + UUID.randomUUID().toString().substring(0, 8);
        String body = "{\"demonstrations\": [{\"prompt\": \"The boy was named\", \"completion\": \" Max\"}],"
                + " \"config\": {\"steps\": \"50\"}}";
        JsonNode placement = new ObjectMapper().readTree(given().contentType(ContentType.JSON).body(body)
                .post("/v1/tasks/" + task + "/demonstrations").then().statusCode(202)
                .body("topic", equalTo(Topics.DEMONSTRATIONS)).extract().asString());
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(Topics.DEMONSTRATIONS, placement.get("partition").asInt());
            c.assign(List.of(tp));
            c.seek(tp, placement.get("offset").asLong());
            ConsumerRecord<String, byte[]> record = null;
            for (int i = 0; i < 50 && record == null; i++) {
                var records = c.poll(Duration.ofMillis(200));
                record = records.isEmpty() ? null : records.iterator().next();
            }
            assertEquals(task, record.key());
            JsonNode value = new ObjectMapper().readTree(record.value());
            assertEquals(task, value.get("task").asText());
            assertEquals(" Max", value.get("demonstrations").get(0).get("completion").asText());
            assertEquals("append", value.get("mode").asText());
            assertEquals("50", value.get("config").get("steps").asText());
        }
    }

    @Test
    void badBatchesAreProblems() {
        bad("t1", "{\"demonstrations\": []}", 400, "non-empty array");
        bad("t1", "{\"task\": \"t2\", \"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}]}", 400, "differs");
        bad("t1", "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \"\"}]}", 400, "empty completion");
        bad("t1", "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"mode\": \"merge\"}", 400, "mode 'merge'");
        bad("t1", "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"config\": {\"stepz\": 3}}", 400, "stepz");
        bad("bad id!", "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}]}", 400, "must be 1-128");
        bad("t1", "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"model_fingerprint\": \"sha256:x\"}",
                409, "not the served model");
        bad("t1", "[1, 2", 400, "");
    }

    private void bad(String task, String body, int status, String detail) {
        given().contentType(ContentType.JSON).body(body).post("/v1/tasks/" + task.replace(" ", "%20").replace("!", "%21")
                + "/demonstrations").then().statusCode(status).contentType("application/problem+json")
                .body("detail", containsString(detail));
        assertTrue(status >= 400);
    }
}
