package io.laai.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.model.StreamingResponseHandler;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiLanguageModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingLanguageModel;
import dev.langchain4j.model.output.Response;

import io.laai.ModelService;
import io.laai.RequiresSharedData;
import io.laai.chat.ChatTemplate;
import io.laai.intervention.Intervention;
import io.laai.kafka.KafkaTestResource;
import io.laai.model.Generator;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The OpenAI-compatible endpoints driven by LangChain4j's OpenAI module, unmodified: what its
 * completions and chat models get must equal the offline generator's answer for the same prompt.
 */
@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class OpenAiClientsTest {

    @TestHTTPResource("/v1")
    URL v1;

    @Inject
    ModelService models;

    @Inject
    RegistryService registry;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    private String base() {
        return v1.toString();
    }

    private String offline(String prompt, int tokens, Steering steering) {
        return new Generator(models.model()).generate(new Generator.Request(prompt, SamplingParams.greedy(tokens), steering))
                .text();
    }

    /** Streams a chat through LangChain4j's handler: the parts as they come, and the whole answer or the error. */
    private static CompletableFuture<ChatResponse> chat(OpenAiStreamingChatModel model, String message, StringBuilder parts) {
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(message, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                parts.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        return done;
    }

    @Test
    void completionsWithATaskAndAComposition() throws Exception {
        Intervention dog = TestInterventions.publish(bootstrap, registry, models.model().fingerprint(), "lc-dog", 1);
        Intervention sad = TestInterventions.publish(bootstrap, registry, models.model().fingerprint(), "lc-sad", 1);
        OpenAiLanguageModel task = OpenAiLanguageModel.builder().baseUrl(base()).apiKey("unused").modelName("lc-dog")
                .temperature(0.0).build();
        Response<String> one = task.generate("Once upon a time");
        assertEquals(offline("Once upon a time", 16, dog.steering(1.0)), one.content());
        assertEquals(16, one.tokenUsage().outputTokenCount());

        String composed = "lc-dog*0.5+lc-sad";
        java.util.Map<io.laai.intervention.Intervention, Double> weights = new java.util.LinkedHashMap<>();
        weights.put(dog, 0.5);
        weights.put(sad, 1.0);
        String expected = offline("The cat", 16, io.laai.intervention.Composition.of(weights));
        OpenAiStreamingLanguageModel streaming = OpenAiStreamingLanguageModel.builder().baseUrl(base()).apiKey("unused")
                .modelName(composed).temperature(0.0).build();
        CompletableFuture<Response<String>> done = new CompletableFuture<>();
        StringBuilder parts = new StringBuilder();
        streaming.generate("The cat", new StreamingResponseHandler<>() {
            @Override
            public void onNext(String token) {
                parts.append(token);
            }

            @Override
            public void onComplete(Response<String> response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        Response<String> streamed = done.get(60, TimeUnit.SECONDS);
        assertEquals(expected, parts.toString());
        assertEquals(expected, streamed.content());
        assertNotEquals(offline("The cat", 16, Steering.NONE), expected, "the composition changes the text");
    }

    @Test
    void chatStreamedAndNotEqualsTheRenderedPrompt() throws Exception {
        Intervention dog = TestInterventions.publish(bootstrap, registry, models.model().fingerprint(), "lc-chat", 1);
        ChatTemplate template = models.model().chat().orElseThrow();
        String rendered = template.render(java.util.List.of(java.util.Map.of("role", "user", "content", "Tell me a story")),
                true);
        int[] ids = models.model().tokenizer().encode(rendered, false);
        SamplingParams params = new SamplingParams(24, 0, 1, 0, template.endOfTurn(), false);
        String expected = new Generator(models.model()).generate(new Generator.Request(rendered, ids, params,
                dog.steering(1.0))).text();

        assertFalse(expected.isBlank(), "the steered chat says something");
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(base()).apiKey("unused").modelName("lc-chat")
                .temperature(0.0).maxTokens(24).build();
        ChatResponse answer = chat.chat(dev.langchain4j.data.message.UserMessage.from("Tell me a story"));
        assertEquals(expected, answer.aiMessage().text());
        assertTrue(answer.tokenUsage().inputTokenCount() == ids.length, "prompt tokens are the rendered template's");

        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(base()).apiKey("unused")
                .modelName("lc-chat").temperature(0.0).maxTokens(24).build();
        StringBuilder parts = new StringBuilder();
        CompletableFuture<ChatResponse> done = chat(streaming, "Tell me a story", parts);
        ChatResponse streamed = done.get(60, TimeUnit.SECONDS);
        assertEquals(expected, parts.toString());
        assertEquals(expected, streamed.aiMessage().text());
        assertTrue(streamed.tokenUsage() != null && streamed.tokenUsage().outputTokenCount() > 0, "usage arrives");
    }

    @Test
    void anUnknownTaskIsATypedNotFoundWithTheMessage() {
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(base()).apiKey("unused").modelName("no-such-task")
                .maxRetries(0).build();
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class, () -> chat.chat("hello"));
        assertTrue(e.getMessage().contains("no-such-task"), e.getMessage());
        OpenAiLanguageModel text = OpenAiLanguageModel.builder().baseUrl(base()).apiKey("unused").modelName("nope*2")
                .maxRetries(0).build();
        ModelNotFoundException t = assertThrows(ModelNotFoundException.class, () -> text.generate("hello"));
        assertTrue(t.getMessage().contains("nope"), t.getMessage());
    }

    @Test
    void anOverLongStreamedPromptIsACleanError() throws Exception {
        String longPrompt = "the little dog ran to the park and back again. ".repeat(150); // > the model's 512-token context
        assertTrue(longPrompt.length() < 8000, "within laai.edge.max-prompt-chars, so the token count is what refuses it");
        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(base()).apiKey("unused")
                .modelName("base").timeout(Duration.ofSeconds(60)).build();
        StringBuilder parts = new StringBuilder();
        CompletableFuture<ChatResponse> done = chat(streaming, longPrompt, parts);
        Throwable error = assertThrows(java.util.concurrent.ExecutionException.class, () -> done.get(60, TimeUnit.SECONDS))
                .getCause();
        assertInstanceOf(InvalidRequestException.class, error, String.valueOf(error));
        assertTrue(error.getMessage().contains("tokens"), error.getMessage());
        assertFalse(parts.length() > 0, "nothing was streamed");
    }
}
