package io.laai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.kafka.EmbeddedKafkaBroker;

/**
 * The edge-only build (README, "Engines"): this working tree packaged with {@code -Dedge} holds
 * no libtorch, serves stories260K's reference greedy text in laai.role=edge (and `generate` prints
 * it), and refuses what needs libtorch with the reason.
 */
class EdgeBuildTest {

    @Test
    void theEdgeBuildServesWithoutLibtorchAndRefusesTraining() throws Exception {
        Path model = SharedData.stories260K();
        Path repo = Path.of("").toAbsolutePath();
        Assumptions.assumeTrue(Files.isDirectory(repo.resolve(".git")), "not a git checkout: nothing to copy");
        Path outer = Files.createTempDirectory("laai-edge-build");
        try {
            Path tree = Files.createDirectories(outer.resolve("laai"));
            // The files git would commit, as they are now (a clone would miss uncommitted work).
            run(repo, 120, "bash", "-c", "git ls-files -co --exclude-standard -z | tar --null -T - --ignore-failed-read -cf - "
                    + "| tar -xf - -C '" + tree + "'");
            run(tree, 900, "./mvnw", "-o", "-B", "-q", "-Dedge", "package", "-DskipTests");
            Path app = tree.resolve("target/quarkus-app");
            List<String> jars;
            try (var files = Files.list(app.resolve("lib/main"))) {
                jars = files.map(p -> p.getFileName().toString()).toList();
            }
            assertTrue(jars.stream().noneMatch(j -> j.contains("pytorch")), "no DJL PyTorch engine or libtorch: " + jars);
            assertTrue(jars.stream().noneMatch(j -> j.startsWith("ai.djl") || j.contains("jna")),
                    "none of DJL, not even its api jar or the tokenizers JNI library (the tokenizer is Java): " + jars);
            assertTrue(jars.stream().anyMatch(j -> j.startsWith("io.quarkus.quarkus-rest")), "the service is there: " + jars);

            String jar = app.resolve("quarkus-run.jar").toString();
            int http = EmbeddedKafkaBroker.freePort();
            List<String> edge = new ArrayList<>(List.of(java(), "--add-modules", "jdk.incubator.vector", "-Dlaai.role=edge",
                    "-Dlaai.model=" + model, "-Dlaai.kafka.embedded.enabled=true",
                    "-Dlaai.kafka.embedded.data-dir=" + outer.resolve("kafka"),
                    "-Dlaai.kafka.embedded.port=" + EmbeddedKafkaBroker.freePort(),
                    "-Dlaai.kafka.embedded.controller-port=" + EmbeddedKafkaBroker.freePort(), "-Dquarkus.http.port=" + http,
                    "-jar", jar));
            Path log = outer.resolve("edge.log");
            Process server = new ProcessBuilder(edge).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                String text = generate(http, server, log);
                assertTrue(SharedData.STORIES_REFERENCE.startsWith("Once upon a time" + text),
                        "greedy text equals llama2.c's reference: " + text);
                assertTrue(Files.readString(log).contains("Java engine kernels: vector"), Files.readString(log));
            } finally {
                server.destroy();
                server.waitFor(30, TimeUnit.SECONDS);
                server.destroyForcibly();
            }

            Result all = exec(outer, 120, java(), "-Dlaai.model=" + model, "-Dquarkus.http.port="
                    + EmbeddedKafkaBroker.freePort(), "-jar", jar);
            assertTrue(all.code() != 0, "laai.role=all cannot start without libtorch: " + all.out());
            assertTrue(all.out().contains("laai.role=all needs libtorch, which this build leaves out"), all.out());

            Result generate = exec(outer, 120, java(), "--add-modules", "jdk.incubator.vector", "-jar", jar, "generate",
                    "--model", model.toString(), "--prompt", "Once upon a time", "--max-tokens", "24", "--temperature", "0");
            assertEquals(0, generate.code(), generate.out());
            String printed = generate.out().lines().filter(l -> l.startsWith(",")).findFirst().orElse(generate.out());
            assertTrue(SharedData.STORIES_REFERENCE.startsWith("Once upon a time" + printed), "generate runs on the Java"
                    + " engine: " + generate.out());

            Path demos = Files.writeString(outer.resolve("demos.jsonl"), "{\"prompt\": \"The boy was named\", \"completion\":"
                    + " \" Max\"}\n");
            Result train = exec(outer, 120, java(), "-jar", jar, "train", "--model", model.toString(), "--demos",
                    demos.toString(), "--task", "t", "--out", outer.resolve("t.safetensors").toString());
            assertEquals(2, train.code(), train.out());
            assertTrue(train.out().contains("needs libtorch, which this build leaves out"), train.out());
        } finally {
            PublicCloneTest.deleteTree(outer);
        }
    }

    private static String generate(int port, Process server, Path log) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/generate"))
                .header("content-type", "application/json").timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Once upon a time\", \"max_tokens\": 24,"
                        + " \"temperature\": 0}")).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            assertTrue(server.isAlive(), "the edge stopped: " + Files.readString(log));
            try {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
                return new ObjectMapper().readTree(r.body()).path("text").asText();
            } catch (java.io.IOException e) {
                Thread.sleep(500); // not listening yet
            }
        }
        throw new AssertionError("the edge did not answer within 120 s: " + Files.readString(log));
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private record Result(int code, String out) {
    }

    /** Output goes to a file, so a command that hangs is stopped at its limit rather than blocking a read. */
    private static Result exec(Path dir, int seconds, String... command) throws Exception {
        Path log = Files.createTempFile("laai-edge-build", ".log");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        boolean ended = p.waitFor(seconds, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = Files.readString(log);
        Files.delete(log);
        assertTrue(ended, String.join(" ", command) + " did not end within " + seconds + " s: " + out);
        return new Result(p.exitValue(), out);
    }

    private static void run(Path dir, int seconds, String... command) throws Exception {
        Result r = exec(dir, seconds, command);
        assertEquals(0, r.code(), String.join(" ", command) + ": " + r.out());
    }
}
