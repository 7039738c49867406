package io.laai.edge;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.laai.ModelService;
import io.laai.RequiresSharedData;
import io.laai.kafka.KafkaTestResource;
import io.laai.model.Forward;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;

/** Sampling, scoring, prompts, models and errors of the OpenAI-compatible endpoints, as OpenAI defines them. */
@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class OpenAiSamplingTest {

    @Inject
    ModelService models;

    @Inject
    RegistryService registry;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    private static JsonPath complete(String body) {
        return given().contentType(ContentType.JSON).body(body).post("/v1/completions").then().statusCode(200)
                .extract().jsonPath();
    }

    private static final String SAMPLED = "{\"model\": \"base\", \"prompt\": \"Once upon a time\", \"max_tokens\": 24,"
            + " \"temperature\": 1";

    @Test
    void seededSamplingRepeatsAndUnseededDiffers() {
        JsonPath a = complete(SAMPLED + ", \"seed\": 5}");
        JsonPath b = complete(SAMPLED + ", \"seed\": 5}");
        assertEquals(a.getString("choices[0].text"), b.getString("choices[0].text"));
        assertEquals(5L, a.getLong("seed"));
        Set<String> texts = new HashSet<>();
        Set<Long> seeds = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            JsonPath r = complete(SAMPLED + "}");
            texts.add(r.getString("choices[0].text"));
            seeds.add(r.getLong("seed"));
            // The reported seed reproduces the answer.
            assertEquals(r.getString("choices[0].text"), complete(SAMPLED + ", \"seed\": " + r.getLong("seed") + "}")
                    .getString("choices[0].text"));
        }
        assertEquals(4, seeds.size(), "a fresh seed per request");
        assertTrue(texts.size() > 1, "unseeded samples differ: " + texts);
    }

    @Test
    void nGivesIndexedChoicesAndBestOfRanks() {
        JsonPath r = complete(SAMPLED + ", \"seed\": 9, \"n\": 3}");
        assertEquals(List.of(0, 1, 2), r.getList("choices.index"));
        assertTrue(new HashSet<>(r.getList("choices.text")).size() > 1, "three different samples");
        JsonPath two = complete("{\"model\": \"base\", \"prompt\": [\"Lily\", \"Tom\"], \"max_tokens\": 5, \"temperature\": 0,"
                + " \"n\": 2}");
        assertEquals(List.of(0, 1, 2, 3), two.getList("choices.index"));
        assertEquals(two.getString("choices[0].text"), two.getString("choices[1].text"), "greedy choices agree");
        assertNotEquals(two.getString("choices[0].text"), two.getString("choices[2].text"), "each prompt its own");
        JsonPath best = complete(SAMPLED + ", \"seed\": 9, \"n\": 1, \"best_of\": 3, \"logprobs\": 0}");
        double bestSum = sum(best.getList("choices[0].logprobs.token_logprobs", Float.class));
        assertTrue(r.getList("choices.text").contains(best.getString("choices[0].text")), "best_of picks one of the three");
        JsonPath all = complete(SAMPLED + ", \"seed\": 9, \"n\": 3, \"logprobs\": 0}");
        for (int j = 0; j < 3; j++) {
            assertTrue(bestSum >= sum(all.getList("choices[" + j + "].logprobs.token_logprobs", Float.class)) - 1e-4);
        }
    }

    private static double sum(List<Float> values) {
        return values.stream().mapToDouble(Float::doubleValue).sum();
    }

    @Test
    void echoWithMaxTokensZeroScoresThePromptAsTheForwardPass() {
        String prompt = "Once upon a time, there was a little girl named Lily.";
        JsonPath r = complete("{\"model\": \"base\", \"prompt\": \"" + prompt + "\", \"max_tokens\": 0, \"echo\": true,"
                + " \"logprobs\": 2}");
        int[] ids = models.model().tokenizer().encode(prompt, true);
        float[] expected = Forward.logSoftmax(models.model(), ids);
        int vocab = models.model().config().vocabSize();
        List<Float> got = r.getList("choices[0].logprobs.token_logprobs", Float.class);
        assertEquals(ids.length, got.size());
        assertEquals(null, got.get(0), "nothing precedes the first token");
        for (int i = 1; i < ids.length; i++) {
            float want = expected[(i - 1) * vocab + ids[i]];
            assertEquals(want, got.get(i), 1e-5, "token " + i);
        }
        assertEquals(prompt, r.getString("choices[0].text"));
        assertEquals(ids.length, r.getInt("usage.prompt_tokens"));
        assertEquals(0, r.getInt("usage.completion_tokens"));
        assertEquals(2, r.getMap("choices[0].logprobs.top_logprobs[1]").size());
        assertEquals(String.join("", r.<String>getList("choices[0].logprobs.tokens")).trim(), prompt);
    }

    @Test
    void logprobsOfGeneratedTokensAndTokenIdPrompts() {
        String prompt = "The dog";
        int[] ids = models.model().tokenizer().encode(prompt, true);
        JsonPath text = complete("{\"model\": \"base\", \"prompt\": \"" + prompt + "\", \"max_tokens\": 6, \"temperature\": 0,"
                + " \"logprobs\": 3}");
        StringBuilder tokens = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) {
            tokens.append(i == 0 ? "" : ",").append(ids[i]);
        }
        JsonPath byIds = complete("{\"model\": \"base\", \"prompt\": " + tokens + "], \"max_tokens\": 6, \"temperature\": 0,"
                + " \"logprobs\": 3}");
        assertEquals(text.getString("choices[0].text"), byIds.getString("choices[0].text"));
        List<Float> lps = text.getList("choices[0].logprobs.token_logprobs", Float.class);
        assertEquals(6, lps.size());
        for (int i = 0; i < 6; i++) {
            java.util.Map<String, Float> top = text.getMap("choices[0].logprobs.top_logprobs[" + i + "]");
            float best = top.values().stream().max(Float::compare).orElseThrow();
            assertEquals(best, lps.get(i), 1e-6, "greedy takes the most likely token");
        }
        assertEquals(String.join("", text.<String>getList("choices[0].logprobs.tokens")), text.getString("choices[0].text"));
    }

    @Test
    void logitBiasAndPenaltiesChangeWhatIsPicked() {
        String greedy = "{\"model\": \"base\", \"prompt\": \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0";
        int forced = models.model().tokenizer().encode(" zoo", false)[0];
        String biased = complete(greedy + ", \"logit_bias\": {\"" + forced + "\": 100}}").getString("choices[0].text");
        String piece = models.model().tokenizer().decode(new int[] {forced});
        assertTrue(biased.replace(" ", "").startsWith(piece.repeat(3).replace(" ", "")), biased);
        // A long greedy story repeats its words; penalties on generated tokens steer away from them.
        String longer = "{\"model\": \"base\", \"prompt\": \"Once upon a time\", \"max_tokens\": 80, \"temperature\": 0";
        String repeated = complete(longer + "}").getString("choices[0].text");
        String penalised = complete(longer + ", \"frequency_penalty\": 2, \"presence_penalty\": 2}").getString("choices[0].text");
        assertNotEquals(repeated, penalised);
        assertTrue(count(penalised, "Lily") < count(repeated, "Lily"), repeated + " / " + penalised);
        given().contentType(ContentType.JSON).body(greedy + ", \"logit_bias\": {\"999999\": 1}}").post("/v1/completions")
                .then().statusCode(400).body("error.param", equalTo("logit_bias"))
                .body("error.message", containsString("vocabulary"));
    }

    private static int count(String text, String word) {
        return text.split(word, -1).length - 1;
    }

    @Test
    void wrongTypesAndUnsupportedFieldsAreOpenAiErrorsNamingTheField() {
        String[][] cases = {{"\"max_tokens\": \"x\"", "max_tokens"}, {"\"temperature\": \"abc\"", "temperature"},
            {"\"stream\": -1", "stream"}, {"\"suffix\": \"end\"", "suffix"}, {"\"n\": 0", "n"},
            {"\"temperature\": 3", "temperature"}, {"\"logprobs\": 50", "logprobs"}, {"\"best_of\": 1, \"n\": 2", "best_of"}};
        for (String[] c : cases) {
            given().contentType(ContentType.JSON).body("{\"model\": \"base\", \"prompt\": \"x\", " + c[0] + "}")
                    .post("/v1/completions").then().statusCode(400).contentType("application/json")
                    .body("error.type", equalTo("invalid_request_error")).body("error.param", equalTo(c[1]))
                    .body("error.message", containsString(c[1]));
        }
        given().contentType(ContentType.JSON).body("{\"model\": \"base\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}],"
                + " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]}").post("/v1/chat/completions")
                .then().statusCode(400).body("error.param", equalTo("tools"));
        given().contentType(ContentType.JSON).body("{\"model\": \"base\", \"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}")
                .post("/v1/chat/completions").then().statusCode(400).body("error.message", containsString("wizard"));
        given().contentType(ContentType.JSON).body("{\"model\": \"base\", \"prompt\": \"x\"}").post("/v1/generate?x=1").then()
                .statusCode(400).contentType("application/problem+json");
    }

    @Test
    void modelsListBaseAndEveryTask() throws Exception {
        TestInterventions.publish(bootstrap, registry, models.model().fingerprint(), "listed-task", 3);
        given().get("/v1/models").then().statusCode(200).body("object", equalTo("list"))
                .body("data[0].id", equalTo("base")).body("data[0].parent", nullValue())
                .body("data.id", hasItem("listed-task"));
        given().get("/v1/models/listed-task").then().statusCode(200).body("parent", equalTo("base"))
                .body("version", equalTo(3)).body("created", equalTo(1796040000)).body("object", equalTo("model"));
        given().get("/v1/models/missing").then().statusCode(404).body("error.code", equalTo("model_not_found"))
                .body("error.message", containsString("missing"));
    }

    @Test
    void weightedModelsAndTheLaaiExtensionAgree() throws Exception {
        TestInterventions.publish(bootstrap, registry, models.model().fingerprint(), "weighted-task", 1);
        String prompt = "\"prompt\": \"The girl\", \"max_tokens\": 10, \"temperature\": 0";
        JsonPath grammar = complete("{\"model\": \"weighted-task*0.5\", " + prompt + "}");
        JsonPath extension = complete("{\"model\": \"base\", \"laai\": {\"interventions\": [{\"task\": \"weighted-task\","
                + " \"scale\": 0.5}]}, " + prompt + "}");
        JsonPath full = complete("{\"model\": \"weighted-task\", " + prompt + "}");
        assertEquals(grammar.getString("choices[0].text"), extension.getString("choices[0].text"));
        assertEquals(0.5, grammar.getDouble("interventions[0].scale"));
        assertNotEquals(full.getString("choices[0].text"), grammar.getString("choices[0].text"), "the scale matters");
        given().contentType(ContentType.JSON).body("{\"model\": \"weighted-task*x\", " + prompt + "}").post("/v1/completions")
                .then().statusCode(400).body("error.param", equalTo("model"));
    }

    @Test
    void chatWithNAndLogprobs() {
        JsonPath r = given().contentType(ContentType.JSON).body("{\"model\": \"base\", \"messages\": [{\"role\": \"system\","
                + " \"content\": \"You tell stories.\"}, {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"A story\"}]}],"
                + " \"max_completion_tokens\": 8, \"temperature\": 0, \"n\": 2, \"logprobs\": true, \"top_logprobs\": 2}")
                .post("/v1/chat/completions").then().statusCode(200).body("object", equalTo("chat.completion"))
                .body("choices", hasSize(2)).body("choices[0].message.role", equalTo("assistant"))
                .extract().jsonPath();
        assertEquals(r.getString("choices[0].message.content"), r.getString("choices[1].message.content"));
        List<Object> content = r.getList("choices[0].logprobs.content");
        assertEquals(r.getInt("usage.completion_tokens") / 2, content.size());
        assertEquals(2, r.getList("choices[0].logprobs.content[0].top_logprobs").size());
    }
}
