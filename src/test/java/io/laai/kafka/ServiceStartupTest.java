package io.laai.kafka;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@org.junit.jupiter.api.Tag("service")
@io.laai.RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class ServiceStartupTest {

    @Inject
    KafkaLifecycle kafka;

    @Test
    void topicsExistWithTheirCleanupPolicies() throws Exception {
        List<String> names = Topics.ALL;
        Map<String, TopicDescription> topics = kafka.admin().describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS);
        assertEquals(3, topics.get(Topics.DEMONSTRATIONS).partitions().size());
        assertEquals(1, topics.get(Topics.INTERVENTIONS).partitions().size());
        for (String name : names) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
            Config config = kafka.admin().describeConfigs(List.of(resource)).all().get(10, TimeUnit.SECONDS).get(resource);
            boolean compacted = name.equals(Topics.INTERVENTIONS) || name.equals(Topics.TRAINER_STATE);
            String expected = compacted ? "compact" : "delete";
            assertEquals(expected, config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value(), name);
        }
    }

    @Test
    void reportsReadyWithKafka() {
        given().when().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItem("laai-kafka"));
    }

    @Test
    void answersTheProbesKubernetesUses() {
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/q/health/started").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void servesMetricsAndOpenApi() {
        given().when().get("/q/metrics").then().statusCode(200).body(containsString("jvm_"));
        given().when().get("/q/openapi").then().statusCode(200).body(containsString("LAAI"))
                // every endpoint, with request examples for the JSON bodies
                .body(containsString("/v1/generate")).body(containsString("/v1/completions"))
                .body(containsString("/v1/interventions/{task}/control-vector.gguf"))
                .body(containsString("/v1/tasks/{task}/demonstrations"))
                .body(containsString("boy-named-max*0.5+big-blue")).body(containsString("replace, with settings"))
                .body(containsString("The boy was named"));
    }
}
