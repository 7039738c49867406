package io.laai.stream;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.laai.RequiresSharedData;
import io.laai.SharedData;
import io.laai.edge.RegistryService;
import io.laai.kafka.KafkaTestResource;
import io.laai.kafka.Topics;
import io.laai.train.TaskFile;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;

/** The whole loop in one service (role all): a batch from a plain producer becomes a version the edge serves. */
@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class StreamingServiceTest {

    @Inject
    RegistryService registry;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void aBatchFromAPlainProducerBecomesAnArtifactThatSteersGeneration() throws Exception {
        TaskFile.Task task = TaskFile.readTasks(SharedData.root().resolve("tasks/stories260K-examples.jsonl")).stream()
                .filter(t -> t.task().equals("boy-named-max")).findFirst().orElseThrow();
        StringBuilder demos = new StringBuilder();
        for (var d : task.train()) {
            demos.append(demos.length() == 0 ? "" : ",").append("{\"prompt\": \"").append(d.prompt())
                    .append("\", \"completion\": \"").append(d.completion()).append("\"}");
        }
        String value = "{\"task\": \"boy-named-max\", \"demonstrations\": [" + demos + "]}";
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(Topics.DEMONSTRATIONS, "boy-named-max", value.getBytes(StandardCharsets.UTF_8))).get();
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> registry.get("boy-named-max").isPresent());
        assertEquals(1, registry.get("boy-named-max").get().version());

        String prompt = task.test().get(0).prompt();
        String base = given().contentType(ContentType.JSON).body(Map.of("prompt", prompt, "max_tokens", 4))
                .post("/v1/generate").then().statusCode(200).extract().path("text");
        String steered = given().contentType(ContentType.JSON)
                .body(Map.of("prompt", prompt, "max_tokens", 4, "task", "boy-named-max"))
                .post("/v1/generate").then().statusCode(200)
                .body("conditions_unmet", org.hamcrest.Matchers.empty()).extract().path("text");
        assertFalse(base.startsWith(" Max"), "the base model already says Max: " + base);
        assertTrue(steered.startsWith(" Max"), "steered: " + steered);
        given().get("/v1/interventions/boy-named-max").then().statusCode(200)
                .body("condition.layer", org.hamcrest.Matchers.equalTo(2))
                .body("condition.threshold", org.hamcrest.Matchers.lessThan(1f));
        // Its condition keeps the Δ off a prompt the task does not mean.
        String unrelated = "It was a rainy day and";
        String plain = given().contentType(ContentType.JSON).body(Map.of("prompt", unrelated, "max_tokens", 12))
                .post("/v1/generate").then().statusCode(200).extract().path("text");
        String withTask = given().contentType(ContentType.JSON).body(Map.of("prompt", unrelated, "max_tokens", 12, "task",
                "boy-named-max")).post("/v1/generate").then().statusCode(200)
                .body("conditions_unmet", org.hamcrest.Matchers.contains("boy-named-max")).extract().path("text");
        assertEquals(plain, withTask);
        // The OpenAI endpoints say the same per choice: in the answer, and on a stream's last chunk of each choice.
        given().contentType(ContentType.JSON).body(Map.of("model", "base", "prompt", List.of(prompt, unrelated),
                "max_tokens", 2, "temperature", 0, "laai", Map.of("interventions", List.of(Map.of("task", "boy-named-max")))))
                .post("/v1/completions").then().statusCode(200)
                .body("choices[0].conditions_unmet", org.hamcrest.Matchers.empty())
                .body("choices[1].conditions_unmet", org.hamcrest.Matchers.contains("boy-named-max"));
        String sse = given().contentType(ContentType.JSON).body(Map.of("model", "boy-named-max", "prompt", unrelated,
                "max_tokens", 2, "stream", true)).post("/v1/completions").then().statusCode(200).extract().asString();
        assertTrue(sse.contains("\"finish_reason\":\"length\",\"conditions_unmet\":[\"boy-named-max\"]"), sse);
        given().contentType(ContentType.JSON).body(Map.of("model", "base", "prompt", unrelated, "max_tokens", 2))
                .post("/v1/completions").then().statusCode(200)
                .body("choices[0]", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasKey("conditions_unmet")));

        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("laai_trainer_batches_consumed_total"))
                .body(containsString("laai_trainer_versions_published_total"))
                .body(containsString("laai_trainer_batch_latency_seconds"));
        given().get("/q/health/ready").then().statusCode(200).body(containsString("laai-trainer"));
    }

    /** Demonstrations as conversations, trained through the edge's ingest and served by its chat endpoint. */
    @Test
    void aTaskTaughtAsConversationsSteersTheAssistantsTurn() throws Exception {
        TaskFile.Task task = TaskFile.readTasks(SharedData.root().resolve("tasks/stories260K-examples.jsonl")).stream()
                .filter(t -> t.task().equals("boy-named-max")).findFirst().orElseThrow();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        var body = json.createObjectNode();
        var demos = body.putArray("demonstrations");
        for (var d : task.train()) {
            var demo = demos.addObject();
            demo.putArray("messages").add(message(json, "system", "You finish the story.")).add(message(json, "user",
                    d.prompt()));
            demo.put("completion", d.completion());
        }
        body.putObject("config").put("validation", "none"); // the test items below are the check; keeps the suite short
        given().contentType(ContentType.JSON).body(body.toString()).post("/v1/tasks/chat-max/demonstrations").then()
                .statusCode(202);
        await().atMost(Duration.ofMinutes(2)).until(() -> registry.get("chat-max").isPresent());

        int steeredRight = 0;
        int baseRight = 0;
        for (var d : task.test()) {
            var chat = json.createObjectNode().put("max_tokens", 4).put("temperature", 0);
            chat.putArray("messages").add(message(json, "system", "You finish the story.")).add(message(json, "user",
                    d.prompt()));
            String base = given().contentType(ContentType.JSON).body(chat.put("model", "base").toString())
                    .post("/v1/chat/completions").then().statusCode(200).extract().path("choices[0].message.content");
            String steered = given().contentType(ContentType.JSON).body(chat.put("model", "chat-max").toString())
                    .post("/v1/chat/completions").then().statusCode(200).extract().path("choices[0].message.content");
            baseRight += base.startsWith(d.completion()) ? 1 : 0;
            steeredRight += steered.startsWith(d.completion()) ? 1 : 0;
        }
        assertEquals(0, baseRight, "the base model already answers Max");
        assertTrue(steeredRight >= task.test().size() - 1, steeredRight + " of " + task.test().size() + " steered answers");
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode message(com.fasterxml.jackson.databind.ObjectMapper json,
            String role, String content) {
        return json.createObjectNode().put("role", role).put("content", content);
    }

    @Test
    void aTaskStillTrainingSaysSoInsteadOfABare404() {
        String body = "{\"demonstrations\": [{\"prompt\": \"The sky was\", \"completion\": \" blue\"}],"
                + " \"config\": {\"steps\": \"1000\", \"patience\": \"200\", \"validation\": \"none\","
                + " \"lambda1\": \"0\", \"lambda2\": \"0\", \"learning_rate\": \"0.0001\", \"target_loss\": \"0\"}}"; // slow: seconds of steps
        given().contentType(ContentType.JSON).body(body).post("/v1/tasks/slow-sky/demonstrations").then().statusCode(202);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            var r = given().get("/v1/interventions/slow-sky");
            return r.statusCode() == 404 && "training".equals(r.path("training_status"));
        });
        var r = given().get("/v1/interventions/slow-sky");
        if (r.statusCode() == 404) { // it may have finished in between
            r.then().contentType("application/problem+json").body("detail", containsString("is training"))
                    .body("event", org.hamcrest.Matchers.oneOf("queued", "started", "progress"));
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> given().get("/v1/interventions/slow-sky").statusCode() == 200);
        given().get("/v1/interventions/never-taught").then().statusCode(404).body("detail",
                containsString("no intervention for task 'never-taught'"));
    }
}
