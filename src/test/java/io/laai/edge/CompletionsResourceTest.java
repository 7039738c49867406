package io.laai.edge;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;


import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.ModelService;
import io.laai.RequiresSharedData;
import io.laai.intervention.Intervention;
import io.laai.model.Generator;
import io.laai.model.SamplingParams;
import io.quarkus.test.common.http.TestHTTPResource;
import io.laai.kafka.KafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;

@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class CompletionsResourceTest {

    @Test
    void baseModelMatchesGenerate() {
        String expected = given().contentType(ContentType.JSON)
                .body("{\"prompt\": \"Once upon a time\", \"max_tokens\": 20}").post("/v1/generate").then().statusCode(200)
                .extract().path("text");
        given().contentType(ContentType.JSON)
                .body("{\"model\": \"base\", \"prompt\": \"Once upon a time\", \"max_tokens\": 20, \"temperature\": 0}")
                .post("/v1/completions").then().statusCode(200).contentType(ContentType.JSON)
                .body("object", equalTo("text_completion")).body("choices[0].text", equalTo(expected))
                .body("choices[0].finish_reason", equalTo("length")).body("usage.completion_tokens", equalTo(20));
    }

    @Test
    void streamsTheSameTextAsEvents() throws Exception {
        String body = "{\"model\": \"base\", \"prompt\": \"Lily went to the\", \"max_tokens\": 25, \"temperature\": 0";
        String whole = given().contentType(ContentType.JSON).body(body + "}").post("/v1/completions").then()
                .statusCode(200).extract().path("choices[0].text");
        String sse = given().contentType(ContentType.JSON).body(body + ", \"stream\": true}").post("/v1/completions")
                .then().statusCode(200).contentType(containsString("text/event-stream")).extract().asString();
        List<String> data = new ArrayList<>();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data:")) {
                data.add(line.substring(5).trim());
            }
        }
        assertEquals("[DONE]", data.get(data.size() - 1));
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode chunk = new ObjectMapper().readTree(d);
            text.append(chunk.get("choices").get(0).get("text").asText());
            if (!chunk.get("choices").get(0).get("finish_reason").isNull()) {
                finish = chunk.get("choices").get(0).get("finish_reason").asText();
            }
        }
        assertEquals(whole, text.toString());
        assertEquals("length", finish);
        assertTrue(data.size() > 3, "several events: " + data.size());
    }

    @Inject
    RegistryService registry;

    @Inject
    ModelService models;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @TestHTTPResource("/v1/completions")
    URI completions;

    private void publish(String task, long version) throws Exception {
        TestInterventions.publish(bootstrap, registry, models.model().fingerprint(), task, version);
    }

    @Test
    void streamsKeepTheVersionTheyStartedWithWhileANewOneIsPublished() throws Exception {
        publish("snap-task", 1);
        Intervention v1 = registry.get("snap-task").orElseThrow();
        String expected = new Generator(models.model()).generate(
                new Generator.Request("The dog", SamplingParams.greedy(40), v1.steering(1.0))).text();
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(completions).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"snap-task\", \"prompt\": \"The dog\","
                        + " \"max_tokens\": 40, \"temperature\": 0, \"stream\": true}")).build();
        CountDownLatch started = new CountDownLatch(16);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<List<JsonNode>>> streams = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                streams.add(pool.submit(() -> {
                    HttpResponse<java.util.stream.Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
                    assertEquals(200, response.statusCode());
                    List<JsonNode> chunks = new ArrayList<>();
                    boolean first = true;
                    for (String line : (Iterable<String>) response.body()::iterator) {
                        if (!line.startsWith("data:")) {
                            continue;
                        }
                        if (first) {
                            started.countDown();
                            first = false;
                        }
                        String data = line.substring(5).trim();
                        if (data.equals("[DONE]")) {
                            break;
                        }
                        chunks.add(new ObjectMapper().readTree(data));
                    }
                    return chunks;
                }));
            }
            assertTrue(started.await(60, TimeUnit.SECONDS), "every stream started");
            publish("snap-task", 2);
            for (Future<List<JsonNode>> f : streams) {
                List<JsonNode> chunks = f.get(60, TimeUnit.SECONDS);
                StringBuilder text = new StringBuilder();
                chunks.forEach(c -> text.append(c.get("choices").get(0).get("text").asText()));
                JsonNode last = chunks.get(chunks.size() - 1);
                assertEquals(1, last.get("interventions").get(0).get("version").asInt());
                assertEquals(expected, text.toString());
            }
        } finally {
            pool.shutdown();
        }
        given().contentType(ContentType.JSON).body("{\"model\": \"snap-task\", \"prompt\": \"The dog\", \"max_tokens\": 5}")
                .post("/v1/completions").then().statusCode(200).body("interventions[0].version", equalTo(2));
    }

    @Test
    void unknownModelIsAProblem() {
        given().contentType(ContentType.JSON).body("{\"model\": \"nope+base\", \"prompt\": \"x\"}").post("/v1/completions")
                .then().statusCode(404).contentType("application/json").body("error.message", containsString("nope"))
                .body("error.param", equalTo("model")).body("error.code", equalTo("model_not_found"));
    }
}
