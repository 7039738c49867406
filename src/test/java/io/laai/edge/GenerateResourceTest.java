package io.laai.edge;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import jakarta.inject.Inject;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.laai.ModelService;
import io.laai.RequiresSharedData;
import io.laai.intervention.Artifacts;
import io.laai.intervention.Composition;
import io.laai.intervention.Intervention;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;
import io.laai.kafka.KafkaTestResource;
import io.laai.kafka.Topics;
import io.laai.model.Generator;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;

@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class GenerateResourceTest {

    @Inject
    ModelService models;

    @Inject
    RegistryService registry;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    static final String[] TASKS = {"gen-a", "gen-b", "gen-c", "gen-d"};

    Intervention artifact(String task, long seed) {
        Random r = new Random(seed);
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return new Intervention(task, 1, Site.RESIDUAL, Positions.LAST, new TreeMap<>(Map.of(2, v)),
                models.model().fingerprint(), 64, 8, 8, Map.of());
    }

    @BeforeEach
    void publish() throws Exception {
        if (registry.get(TASKS[3]).isPresent()) {
            return;
        }
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap), new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < TASKS.length; i++) {
                producer.send(new ProducerRecord<>(Topics.INTERVENTIONS, TASKS[i], Artifacts.encode(artifact(TASKS[i], i)))).get();
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> registry.get(TASKS[3]).isPresent());
    }

    private String offline(String prompt, int tokens, Steering steering) {
        return new Generator(models.model()).generate(new Generator.Request(prompt, SamplingParams.greedy(tokens), steering)).text();
    }

    private String generate(String body) {
        return given().contentType(ContentType.JSON).body(body).post("/v1/generate").then().statusCode(200)
                .extract().path("text");
    }

    @Test
    void concurrentLongPromptsCompleteOrAreRefusedAndStopNullIsA400() throws Exception {
        String prompt = "Once upon a time, there was a little girl named Lily. ".repeat(84); // ~4,500 characters
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            for (int clients : new int[] {4, 32}) {
                List<Future<io.restassured.response.Response>> all = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    String p = prompt + i;
                    all.add(pool.submit(() -> given().contentType(ContentType.JSON)
                            .body(Map.of("prompt", p, "max_tokens", 8)).post("/v1/generate")));
                }
                for (Future<io.restassured.response.Response> f : all) {
                    io.restassured.response.Response r = f.get();
                    if (r.statusCode() == 200) {
                        assertEquals(8, r.jsonPath().getInt("usage.completion_tokens"));
                    } else {
                        assertTrue(r.statusCode() == 429 || r.statusCode() == 503, r.statusCode() + " " + r.asString());
                        assertEquals(Problem.MEDIA_TYPE, r.contentType());
                        assertNotNull(r.header("Retry-After"));
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        given().contentType(ContentType.JSON).body("{\"prompt\": \"x\", \"stop\": [null]}").post("/v1/generate").then()
                .statusCode(400).contentType(Problem.MEDIA_TYPE).body("detail", containsString("stop[0] must be a string"));
        given().contentType(ContentType.JSON).body("{\"prompt\": \"x\", \"max_tokens\": \"abc\"}").post("/v1/generate").then()
                .statusCode(400).body("detail", containsString("max_tokens must be an integer"));
        given().contentType(ContentType.JSON).body("{\"model\": \"base\", \"prompt\": \"x\", \"max_tokens\": \"abc\"}")
                .post("/v1/completions").then().statusCode(400).body("error.message", containsString("max_tokens must be an integer"))
                .body("error.param", equalTo("max_tokens"));
    }

    @Test
    void withoutATaskItIsTheBaseModel() {
        given().contentType(ContentType.JSON).body("{\"prompt\": \"Once upon a time\", \"max_tokens\": 40}")
                .post("/v1/generate").then().statusCode(200)
                .body("text", equalTo(offline("Once upon a time", 40, Steering.NONE)))
                .body("finish_reason", equalTo("length")).body("usage.completion_tokens", equalTo(40))
                .body("interventions.size()", equalTo(0));
    }

    @Test
    void withATaskItAppliesThatArtifact() {
        Intervention a = registry.get("gen-a").orElseThrow();
        String text = generate("{\"prompt\": \"The cat\", \"task\": \"gen-a\", \"scale\": 2, \"max_tokens\": 30}");
        assertEquals(offline("The cat", 30, a.steering(2.0)), text);
        assertNotEquals(offline("The cat", 30, Steering.NONE), text, "the intervention changes the text");
        given().contentType(ContentType.JSON).body("{\"prompt\": \"The cat\", \"task\": \"gen-a\"}").post("/v1/generate")
                .then().body("interventions[0].task", equalTo("gen-a")).body("interventions[0].version", equalTo(1));
    }

    @Test
    void composingTwoEqualsTheirSum() {
        Intervention a = registry.get("gen-a").orElseThrow();
        Intervention b = registry.get("gen-b").orElseThrow();
        String text = generate("{\"prompt\": \"Lily\", \"interventions\": [{\"task\": \"gen-a\", \"scale\": 1},"
                + " {\"task\": \"gen-b\", \"scale\": 1}], \"max_tokens\": 30}");
        assertEquals(offline("Lily", 30, Composition.of(Map.of(a, 1.0, b, 1.0))), text);
    }

    @Test
    void concurrentRequestsEqualOneAtATime() throws Exception {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            bodies.add("{\"prompt\": \"" + (i % 2 == 0 ? "Once upon a time" : "The dog ran to the") + "\", \"task\": \""
                    + TASKS[i % 4] + "\", \"max_tokens\": " + (10 + i % 7) + ", \"temperature\": " + (i % 3 == 0 ? 0.8 : 0)
                    + ", \"seed\": " + i + "}");
        }
        List<String> sequential = bodies.stream().map(this::generate).toList();
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Future<String>> futures = bodies.stream().map(b -> pool.submit(() -> generate(b))).toList();
            for (int i = 0; i < bodies.size(); i++) {
                assertEquals(sequential.get(i), futures.get(i).get(), "request " + i);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void clientMistakesAreProblemsNeverServerErrors() {
        problem("{not json", 400, "");
        problem("{\"max_tokens\": 5}", 400, "prompt is required");
        problem("{\"prompt\": \"x\", \"max_tokens\": 100000}", 400, "laai.edge.max-tokens");
        problem("{\"prompt\": \"" + "a".repeat(9000) + "\"}", 400, "laai.edge.max-prompt-chars");
        problem("{\"prompt\": \"x\", \"task\": \"no-such-task\"}", 404, "no-such-task");
        problem("{\"prompt\": \"x\", \"task\": \"gen-a\", \"scale\": 1000}", 400, "laai.edge.max-scale");
        problem("{\"prompt\": \"x\", \"temperature\": -1}", 400, "temperature");
        problem("{\"prompt\": \"x\", \"stop\": [\"\"]}", 400, "is an empty string");
        // Within the character limit, but more tokens than a row of the KV cache holds.
        problem("{\"prompt\": \"" + "x ".repeat(3000) + "\"}", 400, "the model's context is 2048");
        given().contentType(ContentType.JSON).body("{\"model\": \"base\", \"prompt\": \"" + "x ".repeat(3000) + "\"}")
                .post("/v1/completions").then().statusCode(400).contentType("application/json")
                .body("error.message", containsString("the model's context is 2048"));
    }

    private void problem(String body, int status, String detail) {
        given().contentType(ContentType.JSON).body(body).post("/v1/generate").then().statusCode(status)
                .contentType("application/problem+json").body("detail", containsString(detail));
    }
}
