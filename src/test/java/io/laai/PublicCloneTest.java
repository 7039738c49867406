package io.laai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What anyone who clones the repository gets: a clone of this commit in a folder with no
 * ../shared beside it, an empty Hugging Face cache and HF_HUB_OFFLINE, Maven offline. There,
 * {@code ./mvnw -o verify} must pass, with the tests that need the real models reported as skipped
 * (CI unset: under CI a skip is a failure). The inner run does not run this test again.
 */
class PublicCloneTest {

    static final String INNER = "LAAI_PUBLIC_CLONE_RUN";

    @Test
    void aCloneWithNothingBesideItVerifiesAndReportsItsSkips() throws Exception {
        Assumptions.assumeTrue(System.getenv(INNER) == null, "this is the inner run");
        Path repo = Path.of("").toAbsolutePath();
        Assumptions.assumeTrue(Files.isDirectory(repo.resolve(".git")), "not a git checkout: nothing to clone");
        Path outer = Files.createTempDirectory("laai-public-clone");
        try {
            verify(repo, outer);
        } finally {
            deleteTree(outer); // a built clone is a few hundred MB
        }
    }

    /** Best effort: what cannot be deleted (a process still writing) stays in the temporary folder. */
    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                try {
                    Files.deleteIfExists(p);
                } catch (java.io.IOException e) {
                    // left behind
                }
            }
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            // left behind
        }
    }

    private void verify(Path repo, Path outer) throws Exception {
        Path clone = outer.resolve("laai");
        run(outer, Map.of(), 120, "git", "clone", "--quiet", "--no-hardlinks", repo.toString(), clone.toString());
        Path log = outer.resolve("verify.log");
        ProcessBuilder pb = new ProcessBuilder("./mvnw", "-o", "-B", "verify").directory(clone.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("CI");
        pb.environment().put(INNER, "1");
        pb.environment().put("HF_HUB_OFFLINE", "1");
        pb.environment().put("HF_HOME", Files.createDirectories(outer.resolve("empty-hf-home")).toString());
        pb.environment().remove("HF_HUB_CACHE");
        Process p = pb.start();
        boolean ended = p.waitFor(30, TimeUnit.MINUTES);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = Files.readString(log);
        String tail = out.substring(Math.max(0, out.length() - 6000));
        assertTrue(ended, "the clone's verify did not end within 30 minutes: " + tail);
        assertEquals(0, p.exitValue(), "the clone's ./mvnw -o verify failed:\n" + tail);
        assertTrue(out.contains("BUILD SUCCESS"), tail);
        Matcher m = Pattern.compile("Tests run: (\\d+), Failures: 0, Errors: 0, Skipped: (\\d+)\\s*$", Pattern.MULTILINE)
                .matcher(out);
        int skipped = 0;
        int ran = 0;
        while (m.find()) {
            ran += Integer.parseInt(m.group(1));
            skipped += Integer.parseInt(m.group(2));
        }
        assertTrue(skipped > 0, "the model-dependent tests are reported as skipped: " + tail);
        assertTrue(ran > skipped, "and the others ran: " + ran + " run, " + skipped + " skipped");
        System.out.printf("public clone: %d tests, %d skipped%n", ran, skipped);
    }

    private static void run(Path dir, Map<String, String> env, int seconds, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(seconds, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command) + ": " + out);
    }
}
