package io.laai;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The model and task files in ../shared. Absent on a developer's machine, a test skips with a
 * message; absent under CI (CI is set), it fails, so CI never goes green by skipping.
 */
public final class SharedData {
    private SharedData() {
    }

    public static Path root() {
        Path shared = Path.of("..", "shared").toAbsolutePath().normalize();
        if (!Files.isDirectory(shared.resolve("models"))) {
            String message = "../shared/models is absent (" + shared + "): tests that need the real model files";
            if (System.getenv("CI") != null) {
                Assertions.fail(message + " cannot run, and CI requires them");
            }
            Assumptions.abort(message + " are skipped");
        }
        return shared;
    }

    public static Path model(String relative) {
        Path p = root().resolve("models").resolve(relative);
        Assertions.assertTrue(Files.exists(p), "missing shared file " + p);
        return p;
    }

    /** The hub file that is the same stories260K (README, "Quick start"). */
    public static final String HUB_STORIES = "ggml-org/models/tinyllamas/stories260K.gguf";

    /**
     * stories260K: from ../shared where it exists, else the hub file (cached, or downloaded once);
     * with neither, the test skips (fails under CI).
     */
    public static Path stories260K() {
        Path shared = Path.of("..", "shared", "models").toAbsolutePath().normalize();
        if (Files.isDirectory(shared)) {
            return model("stories260K/stories260K.gguf");
        }
        Path hub = hubStories();
        return hub != null ? hub : model("stories260K/stories260K.gguf");
    }

    /** The hub's stories260K, or null when it is neither cached nor reachable. */
    static Path hubStories() {
        try {
            return io.laai.model.HubClient.fromEnvironment().resolve(HUB_STORIES);
        } catch (io.laai.model.ModelFormatException e) {
            return null;
        }
    }

    /** The reference greedy text for "Once upon a time", from ../shared/models/README.md. */
    public static final String STORIES_REFERENCE = "Once upon a time, there was a little girl named Lily. She loved to"
            + " play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.";
}
