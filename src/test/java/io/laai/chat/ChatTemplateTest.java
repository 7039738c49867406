package io.laai.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.SharedData;

class ChatTemplateTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final LocalDate PINNED = LocalDate.of(2024, 7, 26);

    @SuppressWarnings("unchecked")
    @Test
    void rendersEveryReferenceCaseAsTransformersDoes() throws Exception {
        Path dir = SharedData.root().resolve("chat-templates");
        List<String> failures = new ArrayList<>();
        int cases = 0;
        for (String line : Files.readAllLines(dir.resolve("cases.jsonl"))) {
            JsonNode c = JSON.readTree(line);
            cases++;
            String source = Files.readString(dir.resolve("templates").resolve(c.get("family").asText() + ".jinja"));
            ChatTemplate t = new ChatTemplate(source, c.get("bos_token").asText(""), c.get("eos_token").asText(""),
                    () -> PINNED);
            List<Map<String, Object>> messages = JSON.convertValue(c.get("messages"), List.class);
            String name = c.get("family").asText() + " " + c.get("conversation").asText() + " add_generation_prompt="
                    + c.get("add_generation_prompt");
            try {
                String got = t.render(messages, c.get("add_generation_prompt").asBoolean());
                if (!c.has("expected") || !got.equals(c.get("expected").asText())) {
                    failures.add(name + ": rendered " + JSON.writeValueAsString(got));
                }
            } catch (ChatTemplate.TemplateException e) {
                if (!c.has("expected_error") || !e.getMessage().equals(c.get("expected_error").asText())) {
                    failures.add(name + ": raised " + e.getMessage());
                }
            }
        }
        assertEquals(40, cases, "cases.jsonl holds 40 cases");
        assertEquals(List.of(), failures);
    }

    private static String render(String template, List<Map<String, Object>> messages) {
        return new ChatTemplate(template, "<s>", "</s>", () -> PINNED).render(messages, true);
    }

    private static final List<Map<String, Object>> HELLO = List.of(Map.of("role", "user", "content", "hi"));

    @Test
    void notBindsLooserThanATestAsInJinja2() {
        assertEquals("false", render("{{ not add_generation_prompt is defined }}", HELLO));
        assertEquals("true", render("{{ not undefined_thing is defined }}", HELLO));
        assertEquals("false", render("{{ not messages[0]['role'] is not none }}", HELLO));
        assertEquals("{{ not x is defined }} stays text", ChatTemplate.jinja2Precedence("{{ not x is defined }} stays text")
                .replace("not (x is defined)", "not x is defined"));
        assertEquals("a not b is c", ChatTemplate.jinja2Precedence("a not b is c"), "text outside tags is left alone");
    }

    @Test
    void tojsonIsPythonsJsonDumps() {
        Map<String, Object> call = new java.util.LinkedHashMap<>(); // Python keeps a dict's order, and so must tojson
        call.put("n", 1);
        call.put("ok", true);
        List<Map<String, Object>> messages = List.of(Map.of("role", "user", "content", "é \"q\"\n",
                "tool_calls", List.of(call)));
        assertEquals("\"é \\\"q\\\"\\n\"", render("{{ messages[0].content | tojson }}", messages));
        assertEquals("[{\"n\": 1, \"ok\": true}]", render("{{ messages[0].tool_calls | tojson }}", messages));
        assertEquals("[\n  {\n    \"n\": 1,\n    \"ok\": true\n  }\n]",
                render("{{ messages[0].tool_calls | tojson(indent=2) }}", messages));
    }

    @Test
    void raiseExceptionAndBrokenTemplatesAreErrorsWithTheirMessage() {
        ChatTemplate.TemplateException raised = assertThrows(ChatTemplate.TemplateException.class,
                () -> render("{% if messages[0].role == 'user' %}{{ raise_exception('Only assistants here') }}{% endif %}",
                        HELLO));
        assertEquals("Only assistants here", raised.getMessage());
        ChatTemplate.TemplateException broken = assertThrows(ChatTemplate.TemplateException.class,
                () -> render("{% if %}", HELLO));
        assertTrue(broken.getMessage().contains("if"), broken.getMessage());
    }

    @Test
    void strftimeNowAndTheTurnEnds() {
        assertEquals("26 Jul 2024 | July 2024-07-26 Friday", render("{{ strftime_now('%d %b %Y | %B %Y-%m-%d %A') }}", HELLO));
        ChatTemplate t = new ChatTemplate("{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}", "",
                "<|endoftext|>", () -> PINNED);
        assertEquals(List.of("<|endoftext|>", "<|im_end|>"), t.endOfTurn());
        assertEquals("a=1;", render("{% for k, v in {'a': 1} | items %}{{ k }}={{ v }};{% endfor %}", HELLO));
    }
}
