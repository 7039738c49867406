package io.laai.edge;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.laai.RequiresSharedData;
import io.laai.kafka.KafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * /q/metrics in both exposition formats, checked line by line against their grammars (the
 * checks promtool's parser makes: escapes, names, types before samples, values), and LAAI's own
 * metrics against promtool's lint rules (help text, _total counters, base units, snake_case).
 */
@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class MetricsFormatTest {

    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (\\w+)");
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(.*)\\})? (\\S+)( -?\\d+(\\.\\d+)?)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]++|\\\\[\\\\\"n])*+)\"(,|$)");
    // Possessive quantifiers: a long label value (an http_server_requests uri) must not recurse per character.
    private static final Pattern VALUE = Pattern.compile("[-+]?(\\d+(\\.\\d*)?([eE][-+]?\\d+)?|\\.\\d+|Inf|NaN)");

    private static void someTraffic() {
        given().contentType("application/json").body("{\"model\": \"base\", \"prompt\": \"Once\", \"max_tokens\": 4}")
                .post("/v1/completions").then().statusCode(200);
        given().contentType("application/json").body("{\"model\": \"base\", \"prompt\": \"Once\", \"max_tokens\": 4, \"stream\": true}")
                .post("/v1/completions").then().statusCode(200);
    }

    @Test
    void anyAcceptGetsTheClassicTextFormatAndItParses() {
        someTraffic();
        for (String accept : new String[] {"*/*", "text/plain", null}) {
            Response r = accept == null ? given().get("/q/metrics") : given().header("Accept", accept).get("/q/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.getContentType().startsWith("text/plain; version=0.0.4"), accept + " → " + r.getContentType());
            Map<String, String> types = check(r.asString(), false);
            lintOurs(r.asString(), types);
        }
    }

    @Test
    void openMetricsWhenAskedAndItParses() {
        someTraffic();
        Response r = given().header("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8").get("/q/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.getContentType().startsWith("application/openmetrics-text"), r.getContentType());
        String body = r.asString();
        assertTrue(body.endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
        check(body.substring(0, body.length() - "# EOF\n".length()), true);
    }

    /** Prometheus' own checker, where it is installed (Debian's prometheus package; .ci/run installs it). */
    @Test
    void promtoolAcceptsBothFormats() throws Exception {
        String promtool = io.laai.TestTools.require("promtool", "apt-get install prometheus").toString();
        someTraffic();
        String classic = given().header("Accept", "*/*").get("/q/metrics").asString();
        Run lint = run(classic, promtool, "check", "metrics");
        // 0: clean; 3: lint findings only. Findings on the libraries' metrics (Kafka's _ns names,
        // netty's missing help) are theirs; LAAI's own must have none.
        assertTrue(lint.code == 0 || lint.code == 3, "promtool could not parse the text format:\n" + lint.output);
        assertFalse(lint.output.contains("error"), lint.output);
        assertEquals(List.of(), lint.output.lines().filter(l -> l.startsWith("laai_")).toList());

        // Prometheus' own scrape header, and the bare media type.
        String openMetrics = null;
        for (String accept : new String[] {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                + "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", "application/openmetrics-text"}) {
            Response r = given().header("Accept", accept).get("/q/metrics");
            assertEquals(200, r.statusCode(), accept);
            assertTrue(r.getContentType().startsWith("application/openmetrics-text"), accept + " → " + r.getContentType());
            openMetrics = r.asString();
        }
        // promtool reads OpenMetrics in its backfill command, which needs a timestamp on every sample.
        String stamped = openMetrics.lines().map(l -> l.isEmpty() || l.startsWith("#") ? l : l + " 1700000000")
                .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("promtool");
        try {
            java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("metrics.om"), stamped);
            Run blocks = run("", promtool, "tsdb", "create-blocks-from", "openmetrics", file.toString(),
                    dir.resolve("blocks").toString());
            assertEquals(0, blocks.code, "promtool could not parse the OpenMetrics format:\n" + blocks.output);
        } finally {
            try (var files = java.nio.file.Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).map(java.nio.file.Path::toFile).forEach(java.io.File::delete);
            }
        }
    }

    private record Run(int code, String output) {
    }

    private static Run run(String stdin, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out);
    }

    @Test
    void generationIsMeasured() {
        someTraffic();
        String body = given().get("/q/metrics").asString();
        assertTrue(value(body, "laai_edge_requests_total{task=\"base\"}") >= 2, "per-task request counts");
        assertTrue(value(body, "laai_edge_prompt_tokens_total") > 0);
        assertTrue(value(body, "laai_edge_generated_tokens_total") >= 8);
        assertTrue(value(body, "laai_edge_time_to_first_token_seconds_count") >= 2);
        assertTrue(value(body, "laai_edge_inter_token_latency_seconds_count") >= 2);
        assertEquals(0.0, value(body, "laai_edge_requests_running"));
        assertEquals(0.0, value(body, "laai_edge_requests_waiting"));
    }

    private static double value(String body, String series) {
        for (String line : body.split("\n")) {
            line = line.replace(",}", "}"); // the classic format may end a label set with a comma
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in:\n" + String.join("\n", java.util.Arrays.stream(body.split("\n")).filter(l -> l.startsWith("laai_edge")).toList()));
    }

    /** Checks every line; returns each family's type. */
    private static Map<String, String> check(String body, boolean openMetrics) {
        List<String> problems = new ArrayList<>();
        Map<String, String> types = new HashMap<>();
        Set<String> helped = new HashSet<>();
        Set<String> sampled = new HashSet<>();
        String[] lines = body.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            String at = "line " + (i + 1) + ": " + line;
            if (line.isEmpty()) {
                if (i != lines.length - 1) {
                    problems.add(at + " (empty line)");
                }
                continue;
            }
            Matcher m;
            if ((m = HELP.matcher(line)).matches()) {
                String escapes = openMetrics ? "\\\\[\\\\n\"]" : "\\\\[\\\\n]";
                if (m.group(2).replaceAll(escapes, "").contains("\\")) {
                    problems.add(at + " (invalid escape in help)");
                }
                if (!helped.add(m.group(1))) {
                    problems.add(at + " (second HELP)");
                }
            } else if ((m = TYPE.matcher(line)).matches()) {
                Set<String> known = openMetrics ? Set.of("counter", "gauge", "histogram", "summary", "unknown", "info",
                        "stateset", "gaugehistogram") : Set.of("counter", "gauge", "histogram", "summary", "untyped");
                if (!known.contains(m.group(2))) {
                    problems.add(at + " (unknown type)");
                }
                if (types.put(m.group(1), m.group(2)) != null || sampled.contains(m.group(1))) {
                    problems.add(at + " (TYPE repeated, or after its samples)");
                }
            } else if (line.startsWith("#")) {
                if (openMetrics && !line.startsWith("# UNIT ")) {
                    problems.add(at + " (OpenMetrics allows only HELP, TYPE, UNIT and EOF)");
                }
            } else if ((m = SAMPLE.matcher(line)).matches()) {
                sampled.add(m.group(1));
                if (m.group(3) != null && !m.group(3).isEmpty()) {
                    String labels = m.group(3);
                    Matcher l = LABEL.matcher(labels);
                    int end = 0;
                    while (l.find() && l.start() == end) {
                        end = l.end();
                    }
                    if (end != labels.length()) {
                        problems.add(at + " (labels do not parse)");
                    }
                }
                if (!VALUE.matcher(m.group(4)).matches()) {
                    problems.add(at + " (value)");
                }
            } else {
                problems.add(at + " (not a sample, HELP or TYPE)");
            }
        }
        assertEquals(List.of(), problems.subList(0, Math.min(10, problems.size())));
        return types;
    }

    private static void lintOurs(String body, Map<String, String> types) {
        List<String> problems = new ArrayList<>();
        Map<String, String> help = new HashMap<>();
        for (String line : body.split("\n")) {
            Matcher m = HELP.matcher(line);
            if (m.matches()) {
                help.put(m.group(1), m.group(2).trim());
            }
        }
        for (Map.Entry<String, String> t : types.entrySet()) {
            String name = t.getKey();
            if (!name.startsWith("laai_")) {
                continue;
            }
            if (help.getOrDefault(name, "").isEmpty()) {
                problems.add(name + ": no help text");
            }
            if (t.getValue().equals("counter") != name.endsWith("_total")) {
                problems.add(name + ": counters, and only counters, end in _total");
            }
            if (name.matches(".*(_ms|_ns|_us|_milliseconds|_microseconds|_nanoseconds|_minutes|_hours)(_.*)?")
                    || !name.equals(name.toLowerCase())) {
                problems.add(name + ": base units and snake_case");
            }
        }
        assertTrue(types.keySet().stream().anyMatch(n -> n.startsWith("laai_edge_")), "the edge's metrics are there");
        assertEquals(List.of(), problems);
    }
}
