package io.laai.edge;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.RequiresSharedData;
import io.laai.kafka.KafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The OpenAPI document as generated clients and linters read it: every operation has a unique
 * operationId and typed error bodies, request bodies have schemas that their own examples satisfy
 * (checked for the fields they name), the bearer scheme is declared, and DELETE answers 202.
 * It is written to target/openapi.json, and Redocly's linter (its recommended rules) finds nothing in it.
 */
@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class OpenApiDocumentTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyOperationIsNamedTypedAndSecured() throws Exception {
        String text = given().queryParam("format", "json").get("/q/openapi").then().statusCode(200).extract().asString();
        Files.writeString(Path.of("target", "openapi.json"), text);
        JsonNode doc = JSON.readTree(text);
        assertEquals("bearer", doc.at("/components/securitySchemes/bearer/scheme").asText());
        assertEquals("bearer", doc.at("/security/0").fieldNames().next());
        List<String> problems = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext();) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext();) {
                Map.Entry<String, JsonNode> op = ops.next();
                if (op.getKey().equals("parameters")) {
                    continue;
                }
                String where = op.getKey().toUpperCase() + " " + path.getKey();
                String id = op.getValue().path("operationId").asText();
                if (id.isEmpty() || !ids.add(id)) {
                    problems.add(where + ": operationId '" + id + "' missing or repeated");
                }
                for (Iterator<Map.Entry<String, JsonNode>> rs = op.getValue().path("responses").fields(); rs.hasNext();) {
                    Map.Entry<String, JsonNode> r = rs.next();
                    if (r.getKey().charAt(0) >= '4' && !r.getValue().has("content")) {
                        problems.add(where + " " + r.getKey() + ": no error schema");
                    }
                }
                JsonNode body = op.getValue().path("requestBody").path("content").path("application/json");
                if (!body.isMissingNode()) {
                    JsonNode schema = resolve(doc, body.path("schema"));
                    if (!schema.has("properties")) {
                        problems.add(where + ": the request body has no typed schema");
                    }
                    for (Iterator<JsonNode> ex = body.path("examples").elements(); ex.hasNext();) {
                        JsonNode value = JSON.readTree(ex.next().path("value").asText());
                        value = value.isTextual() ? JSON.readTree(value.asText()) : value;
                        for (Iterator<String> f = value.fieldNames(); f.hasNext();) {
                            String field = f.next();
                            if (!schema.path("properties").has(field)) {
                                problems.add(where + ": example field '" + field + "' is not in the schema");
                            }
                        }
                    }
                }
            }
        }
        assertEquals("202", doc.at("/paths/~1v1~1interventions~1{task}/delete/responses").fieldNames().next());
        assertTrue(ids.containsAll(List.of("createCompletion", "createChatCompletion", "listModels", "retrieveModel")), ids.toString());
        assertEquals(List.of(), problems);
    }

    @Test
    void redoclysRecommendedRulesFindNothing() throws Exception {
        String text = given().queryParam("format", "json").get("/q/openapi").then().statusCode(200).extract().asString();
        Path dir = io.laai.TestTools.npmPackage("@redocly/cli", "2.77.0", "redocly");
        Path doc = Files.writeString(dir.resolve("openapi.json"), text);
        Process lint = new ProcessBuilder(dir.resolve("node_modules/.bin/redocly").toString(), "lint", "--extends=recommended",
                doc.toString()).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(lint.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(lint.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "redocly finished");
        assertEquals(0, lint.exitValue(), out);
        // Redocly ends with "You have N warnings." when a rule warns (and prints notices about Node.js otherwise).
        assertTrue(out.contains("Your API description is valid") && !out.matches("(?s).*You have \\d+ warnings?.*"), out);
    }

    private static JsonNode resolve(JsonNode doc, JsonNode schema) {
        String ref = schema.path("$ref").asText();
        return ref.isEmpty() ? schema : doc.at(ref.substring(1));
    }
}
