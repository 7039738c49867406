package io.laai.edge;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import jakarta.inject.Inject;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.laai.ModelService;
import io.laai.RequiresSharedData;
import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;
import io.laai.kafka.KafkaTestResource;
import io.laai.kafka.Topics;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The service reads artifacts published with a plain producer and shows them; errors are problem+json. */
@QuarkusTest
@org.junit.jupiter.api.Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class InterventionsResourceTest {

    @Inject
    ModelService models;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void publishedArtifactsAppearAndTombstonesRemoveThem() throws Exception {
        float[] v = new float[64];
        v[3] = 1.5f;
        Intervention iv = new Intervention("shown-task", 4, Site.ATTN_HEADS, Positions.LAST, new TreeMap<>(Map.of(1, v)),
                models.model().fingerprint(), 64, 8, 8, Map.of("val_accuracy", "1.0"));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap), new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.INTERVENTIONS, "shown-task", Artifacts.encode(iv))).get();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().get("/v1/interventions/shown-task")
                    .then().statusCode(200).body("version", equalTo(4)).body("site", equalTo("attn_heads"))
                    .body("layers", hasItem(1)).body("metadata.val_accuracy", equalTo("1.0")));
            given().get("/v1/interventions").then().statusCode(200).body("interventions.task", hasItem("shown-task"));
            producer.send(new ProducerRecord<>(Topics.INTERVENTIONS, "shown-task", null)).get();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().get("/v1/interventions/shown-task")
                    .then().statusCode(404));
        }
    }

    @Test
    void unknownTaskIsAProblem() {
        given().get("/v1/interventions/no-such-task").then().statusCode(404)
                .contentType("application/problem+json")
                .body("status", equalTo(404)).body("detail", containsString("no-such-task"));
    }

    @Test
    void readyMeansModelLoadedAndRegistryCaughtUp() {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().get("/q/health/ready").then().statusCode(200)
                .body("checks.name", hasItem("laai-model")).body("checks.name", hasItem("laai-registry")));
    }
}
