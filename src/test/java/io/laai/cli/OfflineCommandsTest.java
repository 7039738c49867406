package io.laai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.SharedData;
import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import picocli.CommandLine;

/** train, eval and export-gguf end to end, as a user runs them. */
class OfflineCommandsTest {

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        PrintStream original = System.out;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cli = Main.commandLine();
            cli.setErr(new PrintWriter(err));
            int code = cli.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(original);
        }
    }

    @Test
    void evalOnTheExampleTasksMeetsTheAcceptanceBar() throws Exception {
        Path json = dir.resolve("eval.json");
        Run r = run("eval", "--model", SharedData.stories260K().toString(), "--tasks",
                SharedData.root().resolve("tasks/stories260K-examples.jsonl").toString(), "--json", json.toString(),
                "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| **mean** |"), r.out());
        JsonNode mean = new ObjectMapper().readTree(json.toFile()).get("mean");
        assertEquals(0.0, mean.get("zero-shot").asDouble());
        assertTrue(mean.get("laai").asDouble() >= 0.8, r.out());
        assertTrue(mean.get("laai").asDouble() > mean.get("few-shot").asDouble(), r.out());
        assertTrue(mean.get("laai").asDouble() > mean.get("mean-diff").asDouble(), r.out());
        assertEquals(3, new ObjectMapper().readTree(json.toFile()).get("tasks").size());
    }

    @Test
    void trainWritesAnArtifactAndExportRefusesTheWrongKind() throws Exception {
        Path demos = dir.resolve("demos.jsonl");
        Files.writeString(demos, """
                {"prompt": "The boy was named", "completion": " Max"}
                {"prompt": "One day, a little boy named", "completion": " Max"}
                {"prompt": "There was a happy boy named", "completion": " Max"}
                """);
        Path out = dir.resolve("max.safetensors");
        Run r = run("train", "--model", SharedData.stories260K().toString(), "--demos", demos.toString(), "--task",
                "boy-named-max", "--out", out.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("held-out accuracy"), r.out());
        Intervention iv = Artifacts.read(out);
        assertEquals("boy-named-max", iv.task());
        assertEquals("attn_heads", iv.site().id());

        Run export = run("export-gguf", "--intervention", out.toString(), "--out", dir.resolve("cv.gguf").toString());
        assertEquals(2, export.code());
        assertTrue(export.err().startsWith("error: task boy-named-max intervenes at attn_heads"), export.err());

        Path residual = dir.resolve("residual.safetensors");
        r = run("train", "--model", SharedData.stories260K().toString(), "--demos", demos.toString(), "--task",
                "boy-named-max", "--out", residual.toString(), "--site", "residual", "--positions", "all",
                "--layers", "2,3", "--validation", "none", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        export = run("export-gguf", "--intervention", residual.toString(), "--out", dir.resolve("cv.gguf").toString());
        assertEquals(0, export.code(), export.err());
        assertTrue(Files.size(dir.resolve("cv.gguf")) > 0);
    }

    @Test
    void badFilesAndSettingsAreOneLineErrors() throws Exception {
        Path demos = dir.resolve("bad.jsonl");
        Files.writeString(demos, "{\"prompt\": \"a\", \"completion\": \" b\"}\n{not json\n");
        Run r = run("train", "--model", SharedData.stories260K().toString(), "--demos", demos.toString(), "--task", "t",
                "--out", dir.resolve("o.safetensors").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: " + demos + " line 2: not valid JSON"), r.err());
        r = run("train", "--model", SharedData.stories260K().toString(), "--demos", demos.toString(), "--task", "t",
                "--out", dir.resolve("o.safetensors").toString(), "--site", "mlp");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("site 'mlp' is not one of attn_heads, residual"), r.err());
    }
}
