package io.laai.dashboard;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

import io.laai.RequiresSharedData;
import io.laai.SharedData;
import io.laai.kafka.KafkaTestResource;
import io.laai.train.Demonstration;
import io.laai.train.TaskFile;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The dashboard in real headless chromium against the whole service (role all, the embedded broker,
 * stories260K): a task taught through the form trains, its loss curve and version appear without a
 * reload, the charts show where Δ acts in this version and the one before (bars per layer at the
 * residual default, a layer × head heatmap at attn_heads), and the playground's
 * steered column says what the task taught where the base column does not. Each view is also
 * checked at 360 px (nothing wider than the screen) and the console stays free of errors.
 */
@QuarkusTest
@Tag("service")
@RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class DashboardTest {

    private static final String TASK = "dashboard-max";

    @TestHTTPResource("/")
    URL root;

    @Test
    void teachWatchInspectAndCompareInTheBrowser() throws Exception {
        TaskFile.Task task = TaskFile.readTasks(SharedData.root().resolve("tasks/stories260K-examples.jsonl")).stream()
                .filter(t -> t.task().equals("boy-named-max")).findFirst().orElseThrow();
        List<Demonstration> train = task.train();
        try (Browser b = Browser.start(1280, 1000)) {
            b.driver.get(root + "#teach");
            b.waitFor(d -> d.findElement(By.id("view-teach")).isDisplayed(), "the teach view");
            b.js("window.laaiNotReloaded = true");

            // Teach through the form, typed as a user would: the first three demonstrations.
            teach(b, train.subList(0, 3));
            b.waitFor(d -> d.findElement(By.id("teach-result")).getText().contains("Accepted"), "the batch accepted");
            By panel = By.id("teach-panel");
            b.waitFor(d -> d.findElement(panel).findElements(By.cssSelector(".new-version")).size() == 1, "version 1 appearing");
            String taught = b.text(panel);
            assertTrue(taught.contains("Version 1 is live"), taught);
            assertTrue(taught.contains("batch to version"), taught);
            assertTrue(b.waitFor(d -> d.findElements(By.cssSelector("#teach-panel svg.loss-curve circle.point")).size(),
                    "the loss curve") >= 2, "a loss curve of several progress events: " + taught);
            assertEquals("published", b.waitFor(d -> d.findElement(By.cssSelector("#teach-panel [data-status]"))
                    .getAttribute("data-status"), "the training's status"));
            assertEquals(Boolean.TRUE, b.js("return window.laaiNotReloaded === true"), "the page was reloaded");
            b.screenshot("teach");

            // A second batch: version 2, whose heatmap is drawn beside version 1's.
            teach(b, train.subList(3, train.size()));
            b.waitFor(d -> d.findElement(panel).getText().contains("Version 2 is live"), "version 2 appearing");

            b.driver.findElement(By.cssSelector("nav a[data-view=tasks]")).click();
            By row = By.cssSelector("#tasks-table tr[data-task='" + TASK + "']");
            b.waitFor(d -> d.findElement(row).findElement(By.cssSelector(".version")).getText().equals("2"), "version 2 listed");
            String listed = b.text(row);
            assertTrue(listed.contains("published"), listed);
            assertTrue(listed.contains("v1 published"), "history: " + listed);
            assertTrue(listed.contains("residual"), "the default site: " + listed);
            b.screenshot("tasks");

            b.waitFor(d -> {
                d.findElement(row).findElement(By.linkText(TASK)).click();
                return true;
            }, "the task's link");
            b.waitFor(d -> d.findElement(By.id("view-training")).isDisplayed(), "the training view");
            b.waitFor(d -> !d.findElements(By.cssSelector("#training-panel svg.loss-curve")).isEmpty(), "the loss curve");
            assertEquals("2", b.waitFor(d -> new Select(d.findElement(By.id("training-version"))).getFirstSelectedOption()
                    .getAttribute("value"), "the version shown"));
            b.screenshot("training");

            b.driver.get(root + "#delta/" + TASK);
            b.waitFor(d -> d.findElements(By.cssSelector("figure svg.bars")).size() == 2, "two bar charts");
            // Read in one script: the view may re-render between two WebDriver calls.
            assertEquals(List.of("2", "1"), b.js("return [...document.querySelectorAll('figure svg.bars')]"
                    + ".map(m => m.dataset.version)"));
            @SuppressWarnings("unchecked")
            List<Object> layerNorms = (List<Object>) b.js("return [...document.querySelector('figure svg.bars')"
                    + ".querySelectorAll('rect.cell')].map(c => Number(c.dataset.norm))");
            assertEquals(5, layerNorms.size(), "stories260K: a bar per layer");
            assertTrue(layerNorms.stream().anyMatch(n -> ((Number) n).doubleValue() > 0), "some Δ");
            b.screenshot("delta");

            // At attn_heads (taught through the API with that site), a layer × head heatmap.
            String heads = TASK + "-heads";
            com.fasterxml.jackson.databind.node.ObjectNode batch = new com.fasterxml.jackson.databind.ObjectMapper()
                    .createObjectNode();
            com.fasterxml.jackson.databind.node.ArrayNode demos = batch.putArray("demonstrations");
            train.forEach(d -> TaskFile.write(demos.addObject(), d));
            batch.putObject("config").put("site", "attn_heads");
            given().contentType("application/json").body(batch.toString()).post("/v1/tasks/" + heads + "/demonstrations")
                    .then().statusCode(202);
            // Opened once the task exists: before, the page's fetch of it is a 404 in the console.
            long until = System.nanoTime() + 120_000_000_000L;
            while (given().get("/v1/dashboard/tasks/" + heads).statusCode() != 200) {
                assertTrue(System.nanoTime() < until, heads + " never appeared");
                Thread.sleep(200);
            }
            b.driver.get(root + "#delta/" + heads);
            b.waitFor(d -> d.findElements(By.cssSelector("figure svg.heatmap")).size() == 1, "a heatmap");
            @SuppressWarnings("unchecked")
            List<Object> norms = (List<Object>) b.js("return [...document.querySelector('figure svg.heatmap')"
                    + ".querySelectorAll('rect.cell')].map(c => Number(c.dataset.norm))");
            assertEquals(5 * 8, norms.size(), "stories260K: 5 layers × 8 heads");
            assertTrue(norms.stream().anyMatch(n -> ((Number) n).doubleValue() > 0), "some Δ");

            // The playground: the same prompt, base and steered, streamed side by side.
            b.driver.get(root + "#playground");
            String prompt = task.test().get(0).prompt();
            WebElement promptBox = b.waitFor(d -> d.findElement(By.id("pg-prompt")), "the playground");
            promptBox.sendKeys(prompt);
            b.waitFor(d -> new Select(d.findElement(By.id("pg-task-0"))).getOptions().stream()
                    .anyMatch(o -> o.getAttribute("value").equals(TASK)), "the task offered");
            b.waitFor(d -> {
                new Select(d.findElement(By.id("pg-task-0"))).selectByValue(TASK);
                return true;
            }, "the task chosen");
            WebElement tokens = b.driver.findElement(By.id("pg-tokens"));
            tokens.clear();
            tokens.sendKeys("6");
            tokens.sendKeys(Keys.ENTER); // the form submits from the keyboard
            b.waitFor(d -> "yes".equals(d.findElement(By.id("pg-base")).getAttribute("data-done"))
                    && "yes".equals(d.findElement(By.id("pg-steered")).getAttribute("data-done")), "both columns done");
            String base = b.driver.findElement(By.id("pg-base")).getText();
            String steered = b.driver.findElement(By.id("pg-steered")).getText();
            assertEquals("", b.driver.findElement(By.id("pg-error")).getText());
            assertFalse(base.strip().startsWith("Max"), "the base model already says Max: " + base);
            assertTrue(steered.strip().startsWith("Max"), "steered toward the taught completion: " + steered + " (base: " + base + ")");
            assertTrue(b.driver.findElement(By.id("pg-versions")).getText().contains(TASK + " v2"));
            b.screenshot("playground");
            // A prompt the task does not mean: its condition leaves the Δ out, and the page says so.
            promptBox.clear();
            promptBox.sendKeys("It was a rainy day and");
            tokens.sendKeys(Keys.ENTER);
            b.waitFor(d -> "yes".equals(d.findElement(By.id("pg-base")).getAttribute("data-done"))
                    && "yes".equals(d.findElement(By.id("pg-steered")).getAttribute("data-done")), "both columns done again");
            assertEquals(b.driver.findElement(By.id("pg-base")).getText(), b.driver.findElement(By.id("pg-steered")).getText());
            assertTrue(b.driver.findElement(By.id("pg-conditions")).getText().contains(TASK),
                    b.driver.findElement(By.id("pg-conditions")).getText());

            b.driver.get(root + "#health");
            WebElement cards = b.waitFor(d -> {
                WebElement c = d.findElement(By.id("health-cards"));
                return c.getText().contains("stories260K") ? c : null;
            }, "the health cards");
            assertTrue(cards.getText().contains("laai-kafka"), cards.getText());
            assertTrue(cards.getText().contains("tokens/s"), cards.getText());
            b.screenshot("health");
            b.assertNoConsoleErrors();

            // 360 px wide: every view fits the screen.
            b.resize(360, 800);
            for (String view : List.of("tasks", "training/" + TASK, "delta/" + TASK, "playground", "teach", "health")) {
                b.driver.get(root + "#" + view);
                String id = "view-" + view.split("/")[0];
                b.waitFor(d -> d.findElement(By.id(id)).isDisplayed(), view);
                Thread.sleep(300); // let the view's data arrive
                long wide = (Long) b.js("return document.documentElement.scrollWidth");
                long screen = (Long) b.js("return window.innerWidth");
                assertTrue(wide <= screen, view + " is " + wide + " px wide at a " + screen + " px screen");
                b.screenshot("narrow-" + view.split("/")[0]);
            }
            b.assertNoConsoleErrors();
        }
    }

    @Test
    void eventStreamsAreCappedAndAClosedOneFreesItsPlace() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.URI events = root.toURI().resolve("/v1/dashboard/events");
        List<java.io.InputStream> open = new java.util.ArrayList<>();
        try {
            java.net.http.HttpResponse<java.io.InputStream> refused = null;
            for (int i = 0; i <= EventStreams.MAX_STREAMS && refused == null; i++) {
                var r = http.send(java.net.http.HttpRequest.newBuilder(events).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofInputStream());
                if (r.statusCode() == 200) {
                    assertEquals("text/event-stream", r.headers().firstValue("content-type").orElse("").split(";")[0]);
                    open.add(r.body());
                } else {
                    refused = r;
                }
            }
            assertTrue(refused != null, "the stream past " + EventStreams.MAX_STREAMS + " is refused");
            assertEquals(429, refused.statusCode());
            assertTrue(new String(refused.body().readAllBytes()).contains("at most " + EventStreams.MAX_STREAMS));
        } finally {
            for (var in : open) {
                in.close();
            }
        }
        // The server notices closed streams (at the latest at the next ping) and takes new ones again.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(EventStreams.PING_SECONDS * 3))
                .until(() -> http.send(java.net.http.HttpRequest.newBuilder(root.toURI().resolve("/v1/dashboard/health")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body().contains("\"event_streams\":0"));
    }

    /** Types the demonstrations into the teach form and sends it from the keyboard. */
    private static void teach(Browser b, List<Demonstration> demos) {
        WebElement name = b.driver.findElement(By.id("teach-task"));
        name.clear();
        name.sendKeys(TASK);
        WebElement rows = b.driver.findElement(By.id("teach-rows"));
        rows.clear();
        rows.sendKeys(demos.stream().map(d -> d.prompt() + " => " + d.completion().trim()).collect(Collectors.joining("\n")));
        b.driver.findElement(By.id("teach-send")).sendKeys(Keys.ENTER);
    }

    @Test
    void theDashboardApiNamesWhatItCannotShow() {
        given().get("/v1/dashboard/tasks/no-such-task").then().statusCode(404).contentType("application/problem+json")
                .body("detail", containsString("no-such-task"));
        given().get("/v1/dashboard/tasks/bad id!").then().statusCode(400).contentType("application/problem+json");
        given().get("/v1/dashboard/events?task=bad%20id").then().statusCode(400).contentType("application/problem+json");
        given().get("/v1/dashboard/health").then().statusCode(200).body("ready", equalTo(true))
                .body("checks.name", hasItem("laai-kafka")).body("model.layers", equalTo(5))
                .body("edge.running", equalTo(0));
        given().get("/dashboard/config").then().statusCode(200).body("api_key_required", equalTo(false));
        given().get("/q/openapi?format=json").then().statusCode(200)
                .body(org.hamcrest.Matchers.not(containsString("/dashboard/config")));
        given().get("/").then().statusCode(200).contentType(containsString("text/html"))
                .body(containsString("dashboard.js"));
    }
}
