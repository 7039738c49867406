package io.laai.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.ModelService;
import io.laai.RequiresSharedData;
import io.laai.chat.ChatTemplate;
import io.laai.intervention.Intervention;
import io.laai.kafka.KafkaTestResource;
import io.laai.model.Generator;
import io.laai.model.SamplingParams;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The OpenAI-compatible endpoints driven by the official {@code openai} npm client (pinned
 * below), unmodified, through {@code src/test/resources/openai-node/client.mjs}: what it gets
 * must equal the offline generator's answer, and each error must reach it as its typed error.
 */
@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class OpenAiNodeClientTest {

    static final String CLIENT_VERSION = "6.49.0";

    @TestHTTPResource("/v1")
    URL v1;

    @Inject
    ModelService models;

    @Inject
    RegistryService registry;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void theOpenAiNodeClientGetsWhatTheGeneratorSaysAndTypedErrors() throws Exception {
        Path dir = client();
        Intervention dog = TestInterventions.publish(bootstrap, registry, models.model().fingerprint(), "node-dog", 1);
        Process p = new ProcessBuilder("node", dir.resolve("client.mjs").toString(), v1.toString(), "node-dog")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the client finished");
        assertEquals(0, p.exitValue(), output);
        JsonNode out = new ObjectMapper().readTree(output.lines().reduce((a, b) -> b).orElse(""));

        assertTrue(out.get("models").toString().contains("\"base\""), out.get("models").toString());
        assertTrue(out.get("models").toString().contains("\"node-dog\""), out.get("models").toString());
        assertEquals("base", out.path("task").path("parent").asText(), out.get("task").toString());

        Generator generator = new Generator(models.model());
        String completion = generator.generate(new Generator.Request("Once upon a time", SamplingParams.greedy(16),
                dog.steering(1.0))).text();
        assertEquals(completion, out.get("completion").asText());
        assertEquals(completion, out.get("completionStreamed").asText());

        ChatTemplate template = models.model().chat().orElseThrow();
        String rendered = template.render(List.of(Map.of("role", "user", "content", "Tell me a story")), true);
        String chat = generator.generate(new Generator.Request(rendered, models.model().encodeRendered(rendered),
                new SamplingParams(24, 0, 1, 0, template.endOfTurn(), false), dog.steering(1.0))).text();
        assertFalse(chat.isBlank());
        assertEquals(chat, out.get("chat").asText());
        assertEquals(chat, out.get("chatStreamed").asText());

        assertEquals(3, out.path("seeded").path("choices").asInt());
        assertTrue(out.path("seeded").path("same").asBoolean(), "a seed reproduces all three choices");

        JsonNode unknown = out.get("unknownTask");
        assertEquals("NotFoundError", unknown.path("class").asText(), unknown.toString());
        assertEquals(404, unknown.path("status").asInt());
        assertTrue(unknown.path("message").asText().contains("no-such-task"), unknown.toString());
        JsonNode wrong = out.get("wrongType");
        assertEquals("BadRequestError", wrong.path("class").asText(), wrong.toString());
        assertEquals("max_tokens", wrong.path("param").asText(), wrong.toString());
        JsonNode tooLong = out.get("longStreamed");
        assertEquals("BadRequestError", tooLong.path("class").asText(), "refused before the stream began: " + tooLong);
        assertTrue(tooLong.path("message").asText().contains("tokens"), tooLong.toString());
    }

    /** The client in target/openai-node, installed by npm the first time. */
    private static Path client() throws Exception {
        Path dir = io.laai.TestTools.npmPackage("openai", CLIENT_VERSION, "openai-node");
        Files.copy(Path.of("src/test/resources/openai-node/client.mjs"), dir.resolve("client.mjs"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return dir;
    }
}
