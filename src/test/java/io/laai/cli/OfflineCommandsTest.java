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
import java.util.List;

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

    /** Three demonstrations of boy-named-max, as a file. */
    Path maxDemonstrations() throws java.io.IOException {
        Path demos = dir.resolve("demos.jsonl");
        Files.writeString(demos, """
                {"prompt": "The boy was named", "completion": " Max"}
                {"prompt": "One day, a little boy named", "completion": " Max"}
                {"prompt": "There was a happy boy named", "completion": " Max"}
                """);
        return demos;
    }

    @Test
    void engineInfoReportsTheWeightsMemoryByType() {
        Run f32 = run("engine-info", "--model", SharedData.stories260K().toString(), "--device", "cpu");
        assertEquals(0, f32.code(), f32.err());
        assertTrue(f32.out().matches("(?s).*weights [0-9.]+ MiB f32 on cpu\\(\\).*"), f32.out());
        Run f16 = run("engine-info", "--model", SharedData.stories260K().toString(), "--device", "cpu", "--dtype", "f16");
        assertEquals(0, f16.code(), f16.err());
        assertTrue(f16.out().contains(" MiB f16 + ") && f16.out().contains(" MiB f32 on cpu"), f16.out());
        Run bf16 = run("engine-info", "--model", SharedData.stories260K().toString(), "--dtype", "bf16");
        assertEquals(2, bf16.code());
        assertTrue(bf16.err().contains("use f16"), bf16.err());
    }

    @Test
    void evalOnTheExampleTasksMeetsTheAcceptanceBar() throws Exception {
        Path json = dir.resolve("eval.json");
        Run r = run("eval", "--model", SharedData.stories260K().toString(), "--tasks",
                SharedData.root().resolve("tasks/stories260K-examples.jsonl").toString(), "--json", json.toString(),
                "--device", "cpu", "--compose", "boy-named-max,went-to-the-beach");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| **mean** |"), r.out());
        assertTrue(r.out().contains("| task | method | KL | NLL increase | steered NLL | unchanged |"), r.out());
        JsonNode report = new ObjectMapper().readTree(json.toFile());
        for (JsonNode task : report.get("tasks")) {
            JsonNode zero = task.path("side_effects").path("zero-shot");
            assertEquals(0.0, zero.path("kl").asDouble(), 1e-9, task.toString());
            assertEquals(1.0, zero.path("unchanged").asDouble(), task.toString());
            JsonNode laai = task.path("side_effects").path("laai");
            for (String field : new String[] {"kl", "nll_increase", "steered_nll", "base_nll", "unchanged"}) {
                assertTrue(laai.path(field).isNumber(), field + " in " + task);
            }
            assertTrue(task.path("side_effects").path("mean-diff").path("kl").asDouble() > 0, "steering moves text: " + task);
            assertTrue(laai.path("unchanged").asDouble() >= 0.8, "laai's condition spares unrelated text: " + task);
            assertTrue(task.path("train_seconds").asDouble() > 0 && task.path("groups_kept").asInt() > 0, task.toString());
        }
        JsonNode pair = report.path("composition").path(0);
        assertEquals("[\"boy-named-max\",\"went-to-the-beach\"]", pair.path("tasks").toString());
        assertTrue(pair.path("composed").path("boy-named-max").isNumber() && pair.path("alone").path("went-to-the-beach")
                .isNumber(), pair.toString());
        JsonNode mean = report.get("mean");
        assertEquals(0.0, mean.get("zero-shot").asDouble());
        assertTrue(mean.get("laai").asDouble() >= 0.8, r.out());
        assertTrue(mean.get("laai").asDouble() > mean.get("few-shot").asDouble(), r.out());
        assertTrue(mean.get("laai").asDouble() > mean.get("mean-diff").asDouble(), r.out());
        assertEquals(3, new ObjectMapper().readTree(json.toFile()).get("tasks").size());

        // layers=auto chooses one layer by held-out score, so eval keeps the held-out split for it.
        Path one = dir.resolve("one.jsonl");
        Files.writeString(one, Files.readAllLines(SharedData.root().resolve("tasks/stories260K-examples.jsonl")).get(2) + "\n");
        Run auto = run("eval", "--model", SharedData.stories260K().toString(), "--tasks", one.toString(), "--methods",
                "laai", "--set", "layers=auto", "--json", json.toString(), "--device", "cpu");
        assertEquals(0, auto.code(), auto.err());
        assertEquals(1, new ObjectMapper().readTree(json.toFile()).path("tasks").path(0).path("layers_kept").size(),
                auto.out());
        Run refused = run("eval", "--model", SharedData.stories260K().toString(), "--tasks", one.toString(), "--set",
                "layers=auto", "--set", "validation=none");
        assertEquals(2, refused.code());
        assertTrue(refused.err().contains("validation cannot be none"), refused.err());
    }

    @Test
    void evalComposesOnPromptsBothTasksApplyTo() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("src/test/resources/tasks/stories260K-function.jsonl"));
        Path file = dir.resolve("pair.jsonl");
        Files.write(file, lines.stream().filter(l -> l.contains("\"name-of-pet\"") || l.contains("\"animal-sound\""))
                .toList());
        Path json = dir.resolve("pair.json");
        Run r = run("eval", "--model", SharedData.stories260K().toString(), "--tasks", file.toString(), "--methods", "laai",
                "--compose", "animal-sound,name-of-pet", "--json", json.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| A + B | items | base | A alone | B alone | composed |"), r.out());
        assertEquals(2, new ObjectMapper().readTree(json.toFile()).get("tasks").size(), "the compose line is not a task");
        JsonNode joint = new ObjectMapper().readTree(json.toFile()).path("composition").path(0).path("joint");
        assertEquals(4, joint.path("items").asInt(), joint.toString());
        for (String field : new String[] {"base", "animal-sound alone", "name-of-pet alone", "composed"}) {
            double v = joint.path(field).asDouble(-1);
            assertTrue(v >= 0 && v <= 1, field + " in " + joint);
        }

        Files.writeString(file, lines.get(0) + "\n{\"compose\": [\"animal-sound\", \"no-such-task\"], \"test\": []}\n");
        Run refused = run("eval", "--model", SharedData.stories260K().toString(), "--tasks", file.toString(), "--methods",
                "laai");
        assertEquals(2, refused.code(), refused.out());
        assertTrue(refused.err().contains("line 2: compose names no-such-task, which is not a task of this file"),
                refused.err());
    }

    @Test
    void trainWritesAnArtifactAndExportRefusesTheWrongKind() throws Exception {
        Path demos = maxDemonstrations();
        Path out = dir.resolve("max.safetensors");
        Run r = run("train", "--model", SharedData.stories260K().toString(), "--demos", demos.toString(), "--task",
                "boy-named-max", "--out", out.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("held-out accuracy"), r.out());
        Intervention iv = Artifacts.read(out);
        assertEquals("boy-named-max", iv.task());
        assertEquals("residual", iv.site().id());
        assertTrue(iv.condition() != null, "the artifact carries its condition");

        Run export = run("export-gguf", "--intervention", out.toString(), "--out", dir.resolve("cv.gguf").toString());
        assertEquals(2, export.code());
        assertTrue(export.err().startsWith("error: task boy-named-max applies Δ at positions=last"), export.err());
        Path heads = dir.resolve("heads.safetensors");
        r = run("train", "--model", SharedData.stories260K().toString(), "--demos", demos.toString(), "--task",
                "boy-named-max", "--out", heads.toString(), "--site", "attn_heads", "--validation", "none", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        export = run("export-gguf", "--intervention", heads.toString(), "--out", dir.resolve("cv.gguf").toString());
        assertEquals(2, export.code());
        assertTrue(export.err().startsWith("error: task boy-named-max intervenes at attn_heads"), export.err());

        Path residual = dir.resolve("residual.safetensors");
        r = run("train", "--model", SharedData.stories260K().toString(), "--demos", demos.toString(), "--task",
                "boy-named-max", "--out", residual.toString(), "--site", "residual", "--positions", "all",
                "--layers", "2,3", "--validation", "none", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        export = run("export-gguf", "--intervention", residual.toString(), "--out", dir.resolve("cv.gguf").toString());
        assertEquals(2, export.code());
        assertTrue(export.err().contains("only condition=false exports exactly"), export.err());
        r = run("train", "--model", SharedData.stories260K().toString(), "--demos", demos.toString(), "--task",
                "boy-named-max", "--out", residual.toString(), "--site", "residual", "--positions", "all",
                "--layers", "2,3", "--validation", "none", "--condition", "false", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        export = run("export-gguf", "--intervention", residual.toString(), "--out", dir.resolve("cv.gguf").toString());
        assertEquals(2, export.code());
        assertTrue(export.err().contains("only span=all exports exactly"), export.err());
        r = run("train", "--model", SharedData.stories260K().toString(), "--demos", demos.toString(), "--task",
                "boy-named-max", "--out", residual.toString(), "--site", "residual", "--positions", "all",
                "--layers", "2,3", "--validation", "none", "--condition", "false", "--span", "all", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        export = run("export-gguf", "--intervention", residual.toString(), "--out", dir.resolve("cv.gguf").toString());
        assertEquals(0, export.code(), export.err());
        assertTrue(Files.size(dir.resolve("cv.gguf")) > 0);
    }

    @Test
    void anArtifactTrainedForLlamaCppExportsAndAppliesOfflineAsOnTheEdge() throws Exception {
        Path demos = maxDemonstrations();
        Path out = dir.resolve("cv.safetensors");
        Run r = run("train", "--model", SharedData.stories260K().toString(), "--demos", demos.toString(), "--task",
                "boy-named-max", "--out", out.toString(), "--export", "llama.cpp", "--validation", "none", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        Intervention iv = Artifacts.read(out);
        assertEquals("residual", iv.site().id());
        assertTrue(!iv.deltas().containsKey(0), "no layer 0: " + iv.deltas().keySet());
        Run export = run("export-gguf", "--intervention", out.toString(), "--out", dir.resolve("cv.gguf").toString());
        assertEquals(0, export.code(), export.err());

        String prompt = "Once upon a time, there was a little boy named";
        Run base = run("generate", "--model", SharedData.stories260K().toString(), "--prompt", prompt, "--max-tokens", "4",
                "--device", "cpu");
        Run steered = run("generate", "--model", SharedData.stories260K().toString(), "--prompt", prompt, "--max-tokens", "4",
                "--intervention", out.toString(), "--scale", "1.5", "--device", "cpu");
        assertEquals(0, steered.code(), steered.err());
        try (var lm = io.laai.model.LanguageModel.load(SharedData.stories260K(), ai.djl.Device.cpu())) {
            var request = new io.laai.model.Generator.Request(prompt, io.laai.model.SamplingParams.greedy(4),
                    io.laai.intervention.Composition.of(java.util.Map.of(iv, 1.5)));
            assertEquals(new io.laai.model.Generator(lm).generate(request).text() + "\n", steered.out(),
                    "the same composition as the edge applies");
        }
        assertTrue(!base.out().equals(steered.out()), "steered: " + steered.out() + " base: " + base.out());
        Run noFile = run("generate", "--model", SharedData.stories260K().toString(), "--prompt", prompt,
                "--intervention", dir.resolve("missing.safetensors").toString());
        assertEquals(2, noFile.code());
        assertTrue(noFile.err().startsWith("error: --intervention "), noFile.err());
    }

    @Test
    void everyCommandHasHelpAndEveryOptionADescription() {
        Run help = run("help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().contains("train") && help.out().contains("generate"), help.out());
        CommandLine cli = Main.commandLine();
        for (var e : cli.getSubcommands().entrySet()) {
            Run h = run(e.getKey(), "--help");
            assertEquals(0, h.code(), e.getKey() + " --help: " + h.err());
            Run viaHelp = run("help", e.getKey());
            assertEquals(0, viaHelp.code(), "help " + e.getKey());
            for (var option : e.getValue().getCommandSpec().options()) {
                assertTrue(option.description().length > 0 && !option.description()[0].isBlank(),
                        e.getKey() + " " + option.longestName() + " has no description");
            }
        }
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
