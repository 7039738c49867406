package io.laai.dashboard;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;

import io.laai.RequiresSharedData;
import io.laai.edge.ApiKeyTest;
import io.laai.kafka.KafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/** With API keys set, the dashboard without a key shows a login prompt and no data; a valid key opens it. */
@QuarkusTest
@Tag("service-api-keys")
@RequiresSharedData
@TestProfile(ApiKeyTest.WithKeys.class)
@QuarkusTestResource(KafkaTestResource.class)
class DashboardLoginTest {

    @TestHTTPResource("/")
    URL root;

    @Test
    void withoutAKeyOnlyTheLoginPromptShows() throws Exception {
        given().get("/dashboard/config").then().statusCode(200).body("api_key_required", equalTo(true));
        given().get("/v1/dashboard/tasks").then().statusCode(401);
        given().get("/v1/dashboard/events").then().statusCode(401);
        try (Browser b = Browser.start(1280, 900)) {
            b.driver.get(root + "#health");
            b.waitFor(d -> d.findElement(By.id("login")).isDisplayed(), "the login prompt");
            assertFalse(b.driver.findElement(By.id("view-health")).isDisplayed());
            assertFalse(b.driver.findElement(By.tagName("nav")).isDisplayed());
            assertEquals("", b.driver.findElement(By.id("health-cards")).getText(), "no data before a key");
            assertEquals(b.driver.findElement(By.id("login-key")), b.driver.switchTo().activeElement(),
                    "the key field has the focus");
            b.screenshot("login");
            b.assertNoConsoleErrors();

            b.driver.findElement(By.id("login-key")).sendKeys("wrong", Keys.ENTER);
            b.waitFor(d -> d.findElement(By.id("login-error")).getText().contains("not valid"), "a refused key");
            b.driver.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER); // the refused request's 401 is expected

            b.driver.findElement(By.id("login-key")).clear();
            b.driver.findElement(By.id("login-key")).sendKeys("key-one", Keys.ENTER);
            b.waitFor(d -> d.findElement(By.id("health-cards")).getText().contains("stories260K"), "health after sign-in");
            assertFalse(b.driver.findElement(By.id("login")).isDisplayed());
            assertTrue(b.driver.findElement(By.tagName("nav")).isDisplayed());
            b.waitFor(d -> d.findElement(By.id("live")).getText().contains("live"), "the event stream with the key");
            b.assertNoConsoleErrors();
        }
    }
}
