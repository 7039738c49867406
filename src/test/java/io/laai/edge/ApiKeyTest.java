package io.laai.edge;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.laai.RequiresSharedData;
import io.laai.kafka.KafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;

@QuarkusTest
@Tag("service-api-keys")
@RequiresSharedData
@TestProfile(ApiKeyTest.WithKeys.class)
@QuarkusTestResource(KafkaTestResource.class)
public class ApiKeyTest {

    public static class WithKeys implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("laai.edge.api-keys", "key-one,key-two");
        }
    }

    @Test
    void everyV1CallNeedsAValidKey() {
        String body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 3}";
        given().contentType(ContentType.JSON).body(body).post("/v1/generate").then().statusCode(401)
                .contentType("application/problem+json").body("detail", containsString("Bearer"));
        given().contentType(ContentType.JSON).header("Authorization", "Bearer wrong").body(body).post("/v1/generate")
                .then().statusCode(401).body("detail", containsString("not valid"));
        given().get("/v1/interventions").then().statusCode(401);
        given().contentType(ContentType.JSON).header("Authorization", "Bearer key-two").body(body).post("/v1/generate")
                .then().statusCode(200);
        given().header("Authorization", "Bearer key-one").get("/v1/interventions").then().statusCode(200);
        given().get("/q/health/live").then().statusCode(200);
    }
}
