package io.laai.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.RequiresSharedData;
import io.laai.kafka.KafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * A fuzz test over every endpoint, through real HTTP: at least 1,000 generated requests, each
 * malformed by construction (invalid JSON, wrong types, huge, negative and non-finite numbers, deep
 * nesting, 10 MB bodies, invalid UTF-8, odd task ids and path tricks, wrong content types, unknown
 * fields). Every one must be a 4xx application/problem+json (OpenAI's error object on the OpenAI
 * paths) whose status matches and whose detail
 * says something; none may be a 5xx or be accepted.
 */
@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class MalformedRequestsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @ConfigProperty(name = "quarkus.http.test-port")
    int port;

    record Probe(String method, String path, String contentType, byte[] body, String why) {
    }

    static final String GENERATE = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 4}";
    static final String COMPLETE = "{\"model\": \"base\", \"prompt\": \"Once upon a time\", \"max_tokens\": 4}";
    static final String BATCH = "{\"demonstrations\": [{\"prompt\": \"The sky was\", \"completion\": \" blue\"}]}";

    /** Wrong values for each field of each endpoint: every one must make the request invalid. */
    static final Map<String, List<String>> WRONG = new TreeMap<>(Map.of(
            "max_tokens", List.of("\"abc\"", "\"12\"", "-1", "0", "1e12", "99999999999999999999", "1.5", "true", "[1]",
                    "{}", "1e400"),
            "temperature", List.of("\"abc\"", "-1", "1e308", "1e400", "[0]", "true", "{\"a\": 1}", "\"NaN\""),
            "top_p", List.of("\"x\"", "0", "-0.5", "2", "1e400", "false"),
            "seed", List.of("\"seven\"", "1.5", "99999999999999999999", "[]", "true"),
            "stop", List.of("[null]", "[1]", "null1", "7", "{}", "[\"\"]", "\"\"", "[[\"a\"]]", "true"),
            "prompt", List.of("7", "null", "[[\"a\"]]", "[]", "[1.5]", "[-1]", "[[]]", "{}", "true", "\"" + "x".repeat(9000) + "\""),
            "stream", List.of("-1", "\"yes\"", "1", "[true]", "{}")));

    static List<Probe> probes(Random random) {
        List<Probe> out = new ArrayList<>();
        String json = "application/json";
        for (var e : WRONG.entrySet()) {
            for (String v : e.getValue()) {
                if (!e.getKey().equals("stream")) {
                    out.add(new Probe("POST", "/v1/generate", json, bytes(set(GENERATE, e.getKey(), v)), "generate " + e.getKey() + "=" + v));
                }
                out.add(new Probe("POST", "/v1/completions", json, bytes(set(COMPLETE, e.getKey(), v)), "completions " + e.getKey() + "=" + v));
                out.add(new Probe("POST", "/v1/completions", json, bytes(set(COMPLETE.replace("\"base\"", "\"no-such-task\""),
                        e.getKey(), v)), "completions, unknown task, " + e.getKey() + "=" + v));
            }
        }
        List<String> oddIds = List.of("..%2F..%2Fetc%2Fpasswd", "%00", "a%20b", "x".repeat(300), "%E2%80%AE", "%FF%FE",
                "a;b", "..", "%2e%2e", "a%2Fb", "-", "task%3F", "%C3%A9", "base", "a+b", "%7B%7D");
        List<String> demoBodies = List.of("{", "[]", "{\"demonstrations\": []}", "{\"demonstrations\": [{}]}",
                "{\"demonstrations\": [{\"prompt\": 1, \"completion\": \" x\"}]}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \"\"}]}",
                "{\"demonstrations\": \"x\"}", "{\"demonstration\": []}", "{\"task\": 5, \"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}]}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"mode\": \"merge\"}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"config\": {\"steps\": \"100000\"}}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"config\": {\"steps\": \"abc\"}}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"config\": {\"patience\": \"100000\"}}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"config\": {\"site\": \"everywhere\"}}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"config\": {\"layers\": \"99\"}}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"config\": {\"nope\": 1}}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"config\": {\"steps\": {\"a\": 1}}}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"allow_unvalidated\": \"yes\"}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"model_fingerprint\": \"0000\"}",
                "{\"demonstrations\": [{\"prompt\": \"a\", \"completion\": \" b\"}], \"task\": \"other-task\"}");
        for (String b : demoBodies) {
            out.add(new Probe("POST", "/v1/tasks/fuzz-task/demonstrations", json, bytes(b), "demonstrations " + b));
        }
        for (String id : oddIds) {
            out.add(new Probe("GET", "/v1/interventions/" + id, null, null, "get " + id));
            out.add(new Probe("GET", "/v1/interventions/" + id + "/artifact", null, null, "artifact " + id));
            out.add(new Probe("GET", "/v1/interventions/" + id + "/control-vector.gguf", null, null, "gguf " + id));
            out.add(new Probe("DELETE", "/v1/interventions/" + id, null, null, "delete " + id));
            out.add(new Probe("POST", "/v1/tasks/" + id + "/demonstrations", json, bytes("{\"demonstrations\": [{}]}"),
                    "ingest " + id));
        }
        out.add(new Probe("GET", "/v1/no-such-endpoint", null, null, "unknown path"));
        out.add(new Probe("GET", "/v1/generate", null, null, "wrong method"));
        out.add(new Probe("PUT", "/v1/completions", json, bytes(COMPLETE), "wrong method"));
        out.add(new Probe("GET", "/v1/" + "a".repeat(5000), null, null, "URI over laai.edge.max-uri-chars"));
        for (String endpoint : List.of("/v1/generate", "/v1/completions", "/v1/tasks/fuzz-task/demonstrations")) {
            String valid = endpoint.equals("/v1/generate") ? GENERATE : endpoint.equals("/v1/completions") ? COMPLETE : BATCH;
            out.add(new Probe("POST", endpoint, "text/plain", bytes(valid), "text/plain"));
            out.add(new Probe("POST", endpoint, "application/xml", bytes("<a/>"), "xml"));
            out.add(new Probe("POST", endpoint, json, new byte[0], "empty body"));
            out.add(new Probe("POST", endpoint, json, bytes("null"), "null body"));
            out.add(new Probe("POST", endpoint, json, bytes("[1, 2]"), "array body"));
            out.add(new Probe("POST", endpoint, json, bytes("\"text\""), "string body"));
            out.add(new Probe("POST", endpoint, json, bytes("{\"prompt\": NaN, \"model\": \"base\"}"), "NaN literal"));
            out.add(new Probe("POST", endpoint, json, bytes("[".repeat(5000) + "]".repeat(5000)), "deep arrays"));
            out.add(new Probe("POST", endpoint, json, bytes("{\"a\":".repeat(3000) + "1" + "}".repeat(3000)), "deep objects"));
            out.add(new Probe("POST", endpoint, json, new byte[10 << 20], "10 MB of zeros"));
            byte[] badUtf8 = bytes(valid.replace("Once", "On\u0001ce"));
            for (int i = 0; i < badUtf8.length; i++) {
                if (badUtf8[i] == 1) {
                    badUtf8[i] = (byte) 0xC3; // a lead byte followed by ASCII: invalid UTF-8
                }
            }
            if (endpoint.endsWith("demonstrations")) {
                badUtf8 = bytes("{\"demonstrations\": [{\"prompt\": \"a\u0001\", \"completion\": \" b\"}]}");
                badUtf8[bytes("{\"demonstrations\": [{\"prompt\": \"a").length] = (byte) 0xFF;
            }
            out.add(new Probe("POST", endpoint, json, badUtf8, "invalid UTF-8"));
            out.add(new Probe("POST", endpoint, json, bytes(valid.replaceFirst("\\{", "{\"surprise\": 1, ")), "unknown field"));
        }
        // Random damage to valid bodies until there are more than 1,000 probes: truncations, a
        // byte flipped to a structural character, a duplicated closing brace. The damaged JSON is
        // always invalid (checked by parsing it here), so the server must refuse every one.
        List<Function<String, String>> damage = List.of(
                s -> s.substring(0, 1 + random.nextInt(s.length() - 1)),
                s -> s + "}",
                s -> s.replaceFirst(":", ""),
                s -> s.replaceFirst("\"", ""),
                s -> s.replace("}", ",}"));
        String[][] targets = {{"/v1/generate", GENERATE}, {"/v1/completions", COMPLETE},
            {"/v1/tasks/fuzz-task/demonstrations", BATCH}};
        while (out.size() < 1100) {
            String[] t = targets[random.nextInt(targets.length)];
            String broken = damage.get(random.nextInt(damage.size())).apply(t[1]);
            if (parses(broken)) {
                continue;
            }
            out.add(new Probe("POST", t[0], json, bytes(broken), "damaged JSON " + broken));
        }
        return out;
    }

    @Test
    void everyMalformedRequestIsAProblemNeverA5xx() throws Exception {
        List<Probe> probes = probes(new Random(11));
        assertTrue(probes.size() >= 1000, probes.size() + " probes");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .build();
        Map<Integer, Integer> statuses = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        for (Probe p : probes) {
            HttpRequest.BodyPublisher body = p.body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(p.body);
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + p.path))
                    .timeout(Duration.ofSeconds(60)).method(p.method, body);
            if (p.contentType != null) {
                b.header("Content-Type", p.contentType);
            }
            HttpResponse<String> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException e) {
                failures.add(p.why + ": connection failed: " + e);
                continue;
            }
            statuses.merge(r.statusCode(), 1, Integer::sum);
            String why = abbreviate(p.why) + " → " + r.statusCode() + " " + abbreviate(r.body());
            if (r.statusCode() < 400 || r.statusCode() >= 500) {
                failures.add(why + ": expected a 4xx");
                continue;
            }
            String type = r.headers().firstValue("content-type").orElse("");
            boolean openAi = OpenAiError.covers(p.path.split("[?#]", 2)[0]);
            if (!type.startsWith(openAi ? "application/json" : Problem.MEDIA_TYPE)) {
                failures.add(why + ": content-type " + type);
                continue;
            }
            JsonNode problem = JSON.readTree(r.body());
            if (openAi) {
                JsonNode error = problem.path("error");
                if (error.path("message").asText().isBlank() || !error.path("type").asText().equals(OpenAiError.type(r.statusCode()))) {
                    failures.add(why + ": not OpenAI's error object with a message and the status's type");
                }
            } else if (problem.path("status").asInt() != r.statusCode() || problem.path("detail").asText().isBlank()) {
                failures.add(why + ": not a problem with its status and a detail");
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + probes.size() + " probes failed, e.g.:\n" + String.join("\n",
                    failures.subList(0, Math.min(20, failures.size()))));
        }
        assertTrue(statuses.keySet().containsAll(List.of(400, 404, 405, 413, 414, 415)), "statuses seen: " + statuses);
    }

    @Test
    void aBodyWithoutLengthOverTheServerLimitIsRefused() throws Exception {
        // Chunked, so no Content-Length to refuse up front: the HTTP server's own limit ends it.
        HttpClient http = HttpClient.newHttpClient();
        byte[] chunk = new byte[1 << 20];
        Arrays.fill(chunk, (byte) ' ');
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/generate"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.SequenceInputStream(
                        java.util.Collections.enumeration(java.util.Collections.nCopies(8,
                                new java.io.ByteArrayInputStream(chunk)).stream().map(x -> (java.io.InputStream)
                                new java.io.ByteArrayInputStream(chunk)).toList())))).build();
        try {
            HttpResponse<String> response = http.send(r, HttpResponse.BodyHandlers.ofString());
            assertEquals(413, response.statusCode(), response.body());
        } catch (java.io.IOException closed) {
            // The server may close the connection while the client still sends: refused either way.
        }
    }

    private static boolean parses(String s) {
        try {
            JSON.readTree(s);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    static String set(String body, String field, String value) {
        try {
            var node = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(body);
            String withoutField = node.deepCopy().without(field).toString();
            String rest = withoutField.substring(1, withoutField.length() - 1);
            return "{\"" + field + "\": " + value + (rest.isEmpty() ? "" : ", " + rest) + "}";
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String abbreviate(String s) {
        return s.length() <= 160 ? s : s.substring(0, 160) + "…";
    }
}
