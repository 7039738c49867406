package io.laai;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import io.laai.kafka.EmbeddedKafkaBroker;

/**
 * Dev mode for real (`./mvnw quarkus:dev` on a copy of the project): a start that fails on a
 * missing model frees the embedded broker's ports, and after the model setting is fixed the next
 * request's live reload brings the service up, with no restart of dev mode. Then README's
 * quick-start loop, run as the script it is, prints the taught completion. Slow (it compiles the
 * copy), so it runs once.
 */
class DevModeReloadTest {

    @Test
    void aFailedStartThenAFixAndALiveReloadComeUpWithoutARestart() throws Exception {
        Path model = SharedData.stories260K();
        Path project = Files.createTempDirectory("laai-devmode");
        Path here = Path.of("").toAbsolutePath();
        for (String part : List.of("pom.xml", "mvnw", ".mvn", "src/main")) {
            copy(here.resolve(part), project.resolve(part));
        }
        int http = EmbeddedKafkaBroker.freePort();
        int kafka = EmbeddedKafkaBroker.freePort();
        int controller = EmbeddedKafkaBroker.freePort();
        Path properties = project.resolve("src/main/resources/application.properties");
        String original = Files.readString(properties);
        String local = "\n%dev.laai.kafka.embedded.port=" + kafka + "\n%dev.laai.kafka.embedded.controller-port=" + controller
                + "\n%dev.laai.kafka.embedded.data-dir=" + project.resolve("kafka-data") + "\n";
        Files.writeString(properties, original + local + "%dev.laai.model=" + project.resolve("missing.gguf") + "\n");
        Path log = project.resolve("dev.log");
        // Not offline: dev mode needs artifacts the build itself never resolves (quarkus-devui and its
        // deployment side); once cached, the run reads them from the local repository.
        Process dev = new ProcessBuilder("./mvnw", "-B", "quarkus:dev", "-Dquarkus.http.port=" + http,
                "-Dquarkus.console.enabled=false", "-Dquarkus.analytics.disabled=true", "-Dquarkus.test.continuous-testing=disabled")
                .directory(project.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            waitFor(log, "cannot be loaded", Duration.ofMinutes(6), dev);
            String failed = Files.readString(log);
            assertTrue(failed.contains("Stopped: Kafka admin client → embedded Kafka broker"), tail(failed));
            assertTrue(free(kafka) && free(controller), "the failed start released the broker's ports");

            Files.writeString(properties, original + local + "%dev.laai.model=" + model + "\n");
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            int status = 0;
            while (status != 200 && System.nanoTime() < deadline && dev.isAlive()) {
                try {
                    status = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + http + "/q/health/ready"))
                            .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
                } catch (IOException e) {
                    status = 0;
                }
                if (status != 200) {
                    Thread.sleep(1000);
                }
            }
            String all = Files.readString(log);
            assertTrue(status == 200, "ready after the reload; status " + status + "\n" + tail(all));
            assertFalse(all.contains("already in use"), tail(all));

            String readme = Files.readString(here.resolve("README.md"));
            int marker = readme.indexOf("<!-- The block below is run as a script against dev mode by DevModeReloadTest. -->");
            assertTrue(marker >= 0, "README marks its quick-start loop");
            int start = readme.indexOf("```bash\n", marker) + "```bash\n".length();
            String script = readme.substring(start, readme.indexOf("```", start));
            ProcessBuilder loop = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true);
            loop.environment().put("LAAI_URL", "http://localhost:" + http);
            Process p = loop.start();
            String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(4, java.util.concurrent.TimeUnit.MINUTES), printed);
            assertTrue(printed.contains("\"text\":\" Max"), "README's loop prints the taught completion:\n" + printed);
            assertTrue(printed.contains("\"task\":\"boy-named-max\",\"version\":1"), printed);
        } finally {
            List<ProcessHandle> children = dev.descendants().toList();
            children.forEach(ProcessHandle::destroy);
            dev.destroy();
            dev.waitFor();
            for (ProcessHandle c : children) {
                try {
                    c.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    c.destroyForcibly();
                }
            }
            PublicCloneTest.deleteTree(project);
        }
    }

    private static void waitFor(Path log, String text, Duration timeout, Process p) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String s = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            if (s.contains(text)) {
                return;
            }
            if (!p.isAlive()) {
                throw new AssertionError("dev mode ended: " + tail(s));
            }
            Thread.sleep(1000);
        }
        throw new AssertionError("no '" + text + "' in dev mode's output within " + timeout + ": " + tail(Files.readString(log)));
    }

    private static boolean free(int port) {
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.bind(new java.net.InetSocketAddress("localhost", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String tail(String s) {
        return s.substring(Math.max(0, s.length() - 4000));
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
