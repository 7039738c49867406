package io.laai;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/** Programs a test runs (promtool, node): found on the PATH, else the test skips, or fails where CI is set. */
public final class TestTools {

    private TestTools() {
    }

    /** The program's path; {@code install} says how to get it (the skip or failure message). */
    public static Path require(String program, String install) {
        Path found = Stream.of(System.getenv("PATH").split(File.pathSeparator)).map(d -> Path.of(d, program))
                .filter(Files::isExecutable).findFirst().orElse(null);
        if (found == null) {
            if (System.getenv("CI") != null) {
                fail(program + " is not on the PATH (" + install + "; .ci/run installs it)");
            }
            Assumptions.abort(program + " is not installed (" + install + ")");
        }
        return found;
    }

    /**
     * The npm package {@code name@version} installed in target/{@code folder} (once; again when the
     * version there differs): returns the folder, whose node_modules holds it.
     */
    public static Path npmPackage(String name, String version, String folder) throws Exception {
        require("node", "apt-get install nodejs");
        require("npm", "apt-get install npm");
        Path dir = Path.of("target", folder).toAbsolutePath();
        Files.createDirectories(dir);
        Path installed = dir.resolve("node_modules").resolve(name).resolve("package.json");
        if (!Files.exists(installed) || !Files.readString(installed).contains("\"version\": \"" + version + "\"")) {
            Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix",
                    dir.toString(), name + "@" + version).redirectErrorStream(true).start();
            String log = new String(npm.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!npm.waitFor(300, java.util.concurrent.TimeUnit.SECONDS) || npm.exitValue() != 0) {
                fail("npm install " + name + "@" + version + ":\n" + log);
            }
        }
        return dir;
    }
}
