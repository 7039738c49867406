package io.laai.kafka;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.laai.RequiresSharedData;
import io.laai.SharedData;
import io.laai.train.TaskFile;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;

/**
 * The whole service against a secured cluster: a broker whose only listener the service knows is
 * SASL_SSL (SCRAM-SHA-512 over TLS, a certificate generated for the run). Every client (admin,
 * the API's producer, the trainer's consumer and transactional producer, the compacted-topic
 * readers, the registry) must carry the kafka.* security settings for the loop to close.
 */
@QuarkusTest
@Tag("service-secured")
@RequiresSharedData
@TestProfile(SecuredKafkaTest.Secured.class)
class SecuredKafkaTest {

    public static class Secured implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(SecuredKafkaTestResource.class));
        }

        @Override
        public boolean disableGlobalTestResources() {
            return true;
        }
    }

    @Test
    void theWholeLoopRunsOverSaslSsl() throws Exception {
        TaskFile.Task task = TaskFile.readTasks(SharedData.root().resolve("tasks/stories260K-examples.jsonl")).stream()
                .filter(t -> t.task().equals("boy-named-max")).findFirst().orElseThrow();
        List<Map<String, String>> demos = task.train().stream()
                .map(d -> Map.of("prompt", d.prompt(), "completion", d.completion())).toList();
        given().contentType(ContentType.JSON).body(Map.of("demonstrations", demos))
                .post("/v1/tasks/secured-max/demonstrations").then().statusCode(202);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> given().get("/v1/interventions/secured-max").statusCode() == 200);
        String prompt = task.test().get(0).prompt();
        String base = given().contentType(ContentType.JSON).body(Map.of("prompt", prompt, "max_tokens", 4))
                .post("/v1/generate").then().statusCode(200).extract().path("text");
        String steered = given().contentType(ContentType.JSON)
                .body(Map.of("prompt", prompt, "max_tokens", 4, "task", "secured-max"))
                .post("/v1/generate").then().statusCode(200).extract().path("text");
        assertFalse(base.startsWith(" Max"), "the base model already says Max: " + base);
        assertTrue(steered.startsWith(" Max"), "steered: " + steered);
        given().get("/q/health/ready").then().statusCode(200);
    }
}
