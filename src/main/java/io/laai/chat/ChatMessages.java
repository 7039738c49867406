package io.laai.chat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;

/**
 * A conversation as OpenAI's chat API sends it, checked and turned into what a chat template
 * reads (role, content as a string, and name, tool_calls, tool_call_id where given). The chat
 * endpoint and chat-formatted demonstrations share it, so a conversation is read one way.
 */
public final class ChatMessages {

    /** Most messages one conversation may hold. */
    public static final int MAX_MESSAGES = 512;

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
    private static final Set<String> FIELDS = Set.of("role", "content", "name", "tool_calls", "tool_call_id", "refusal");
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatMessages() {
    }

    /**
     * The messages of {@code v}; {@code field} names it in errors (an IllegalArgumentException
     * whose message names the entry and what is wrong). Each content is at most maxChars characters.
     */
    public static List<Map<String, Object>> parse(JsonNode v, String field, int maxChars) {
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException(field + " is required: a list of {role, content}");
        }
        if (!v.isArray() || v.isEmpty()) {
            throw new IllegalArgumentException(field + " must be a non-empty list of {role, content}, was " + shown(v));
        }
        if (v.size() > MAX_MESSAGES) {
            throw new IllegalArgumentException(field + " has " + v.size() + " entries; at most " + MAX_MESSAGES
                    + " are allowed");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            String at = field + "[" + i + "]";
            JsonNode m = v.get(i);
            if (!m.isObject()) {
                throw new IllegalArgumentException(at + " must be an object {role, content}, was " + shown(m));
            }
            Set<String> unknown = new TreeSet<>();
            m.fieldNames().forEachRemaining(f -> {
                if (!FIELDS.contains(f)) {
                    unknown.add(f.length() > 40 ? f.substring(0, 40) + "…" : f);
                }
            });
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException(at + " has unknown field(s) " + unknown + "; a message has "
                        + new TreeSet<>(FIELDS));
            }
            String role = m.path("role").isTextual() ? m.get("role").asText() : null;
            if (role == null || !ROLES.contains(role)) {
                throw new IllegalArgumentException(at + ".role must be system, developer, user, assistant or tool, was "
                        + (m.hasNonNull("role") ? shown(m.get("role")) : "missing"));
            }
            Map<String, Object> message = new LinkedHashMap<>();
            // Templates know system, not OpenAI's newer developer role, which means the same.
            message.put("role", role.equals("developer") ? "system" : role);
            String content = content(m.get("content"), at, role);
            if (content != null && content.length() > maxChars) {
                throw new IllegalArgumentException(at + ".content has " + content.length() + " characters; the limit is "
                        + maxChars);
            }
            message.put("content", content);
            for (String f : List.of("name", "tool_call_id")) {
                JsonNode s = m.get(f);
                if (s != null && !s.isNull()) {
                    if (!s.isTextual()) {
                        throw new IllegalArgumentException(at + "." + f + " must be a string, was " + shown(s));
                    }
                    message.put(f, s.asText());
                }
            }
            JsonNode calls = m.get("tool_calls");
            if (calls != null && !calls.isNull()) {
                if (!calls.isArray()) {
                    throw new IllegalArgumentException(at + ".tool_calls must be a list, was " + shown(calls));
                }
                message.put("tool_calls", JSON.convertValue(calls, List.class));
            }
            out.add(message);
        }
        return out;
    }

    /** The messages as JSON again (what parse reads back to the same maps). */
    public static ArrayNode toJson(List<Map<String, Object>> messages) {
        return JSON.valueToTree(messages);
    }

    /** A string, or OpenAI's content parts of type text joined with newlines (as vLLM does); null only for the assistant. */
    private static String content(JsonNode c, String at, String role) {
        if (c == null || c.isNull()) {
            if (role.equals("assistant")) {
                return null;
            }
            throw new IllegalArgumentException(at + ".content is required");
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (!c.isArray()) {
            throw new IllegalArgumentException(at + ".content must be a string or a list of content parts, was " + shown(c));
        }
        List<String> texts = new ArrayList<>();
        for (int j = 0; j < c.size(); j++) {
            JsonNode part = c.get(j);
            String where = at + ".content[" + j + "]";
            if (!part.isObject()) {
                throw new IllegalArgumentException(where + " must be an object {type: text, text}, was " + shown(part));
            }
            String type = part.path("type").isTextual() ? part.get("type").asText() : null;
            if (!"text".equals(type)) {
                throw new IllegalArgumentException(where + " has type " + (type == null ? "missing" : "'" + type + "'")
                        + "; this server takes text parts only");
            }
            if (!part.path("text").isTextual()) {
                throw new IllegalArgumentException(where + " needs text, a string");
            }
            if (part.size() > 2) {
                throw new IllegalArgumentException(where + " has fields other than type and text");
            }
            texts.add(part.get("text").asText());
        }
        return String.join("\n", texts);
    }

    private static String shown(JsonNode v) {
        String s = v.toString();
        String kind = v.isTextual() ? "a string" : v.isBoolean() ? "a boolean" : v.isNumber() ? "a number"
                : v.isArray() ? "an array" : v.isObject() ? "an object" : "null";
        return kind + " " + (s.length() > 40 ? s.substring(0, 40) + "…" : s);
    }
}
