package io.laai.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.laai.intervention.Composition;
import io.laai.model.Devices;
import io.laai.model.LanguageModel;
import io.laai.model.Steering;
import io.laai.train.Baselines;
import io.laai.train.Demonstration;
import io.laai.train.Evaluator;
import io.laai.train.SideEffects;
import io.laai.train.TaskFile;
import io.laai.train.TrainConfig;
import io.laai.train.TrainResult;
import io.laai.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Accuracy of each method on each task's test items, its side effects on unrelated text, and the
 * accuracy composed pairs keep, as tables and optionally JSON.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Compare zero-shot, few-shot, mean-diff and laai on a task file: accuracy, side effects on"
                + " unrelated text, and composition.")
public class EvalCommand implements Callable<Integer> {

    static final List<String> METHODS = List.of("zero-shot", "few-shot", "mean-diff", "laai");

    @Option(names = "--model", required = true, description = "GGUF file, Hugging Face checkpoint directory, or hf: reference")
    String model;

    @Option(names = "--tasks", required = true, description = "JSONL task file: {task, train, test} per line")
    Path tasks;

    @Option(names = "--methods", split = ",", defaultValue = "zero-shot,few-shot,mean-diff,laai",
            description = "methods to compare, comma-separated")
    List<String> methods;

    @Option(names = "--json", description = "also write the results as JSON here")
    Path json;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or gpu")
    String device;

    @Option(names = "--dtype", defaultValue = "auto", description = "weight matrices in auto (f32 on CPU, f16 on a GPU), f32 or f16")
    String dtype;

    @Option(names = "--chat-template", description = "a Jinja2 chat template for demonstrations given as messages, in place of"
            + " the model's own")
    java.nio.file.Path chatTemplate;

    @Option(names = "--set", description = "a training setting for laai, e.g. --set lambda2=0.01 (repeatable)")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--unrelated", description = "prompts for the side-effect measure, one per line (default: 24 generic"
            + " story openings built in)")
    Path unrelated;

    @Option(names = "--compose", description = "two tasks of the file, A,B: each task's accuracy under Δ_A + Δ_B"
            + " (repeatable)")
    List<String> compose = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        for (String m : methods) {
            if (!METHODS.contains(m)) {
                throw new CliException("unknown method '" + m + "' (known: " + String.join(", ", METHODS) + ")");
            }
        }
        Map<String, String> overrides = new LinkedHashMap<>(settings);
        // eval scores on the test items, so no held-out split is needed, unless a setting chooses by it
        overrides.putIfAbsent("validation", "auto".equalsIgnoreCase(overrides.get("layers")) ? "auto" : "none");
        TrainConfig cfg;
        try {
            cfg = TrainConfig.DEFAULTS.with(overrides);
        } catch (IllegalArgumentException e) {
            throw new CliException("--set: " + e.getMessage());
        }
        List<TaskFile.Task> taskList = TaskFile.readTasks(tasks);
        Map<String, TaskFile.Task> byName = new LinkedHashMap<>();
        for (TaskFile.Task t : taskList) {
            if (t.test().isEmpty()) {
                throw new CliException(tasks + ": task " + t.task() + " has no test items to evaluate");
            }
            byName.put(t.task(), t);
        }
        List<List<String>> pairs = new ArrayList<>();
        for (String c : compose) {
            List<String> pair = List.of(c.split(",", -1));
            if (pair.size() != 2 || pair.stream().anyMatch(n -> !byName.containsKey(n)) || pair.get(0).equals(pair.get(1))) {
                throw new CliException("--compose " + c + ": give two different tasks of " + tasks + " as A,B");
            }
            pairs.add(pair);
        }
        List<TaskFile.Joint> joint = TaskFile.readJoint(tasks, byName.keySet());
        List<String> prompts = unrelated == null ? SideEffects.defaultPrompts()
                : Files.readAllLines(unrelated).stream().filter(l -> !l.isBlank()).toList();
        try (LanguageModel lm = ModelOption.load(model, Devices.resolve(device), dtype, chatTemplate)) {
            SideEffects.Reference reference = SideEffects.Reference.of(lm, prompts);
            List<Map<String, Object>> rows = new ArrayList<>();
            Map<String, Double> sums = new LinkedHashMap<>();
            Map<String, TrainResult> trained = new LinkedHashMap<>();
            Map<String, Double> laaiAccuracy = new LinkedHashMap<>(); // reused by --compose as each task alone
            List<String> effectLines = new ArrayList<>();
            System.out.println("| task | " + String.join(" | ", methods) + " |");
            System.out.println("| --- |" + " ---: |".repeat(methods.size()));
            Progress progress = Progress.onTerminal();
            for (TaskFile.Task t : taskList) {
                Map<String, Double> accuracy = new LinkedHashMap<>();
                Map<String, Object> effects = new LinkedHashMap<>();
                Map<String, Object> row = new LinkedHashMap<>();
                for (String m : methods) {
                    progress.show("evaluating " + t.task() + " with " + m + " (" + (rows.size() + 1) + " of " + taskList.size()
                            + " tasks)");
                    Method method = method(lm, t, m, cfg, trained);
                    if (m.equals("laai")) {
                        laaiAccuracy.put(t.task(), method.accuracy());
                        row.put("train_seconds", trained.get(t.task()).millis() / 1e3);
                        io.laai.intervention.Intervention iv = trained.get(t.task()).intervention();
                        row.put("layers_kept", iv.deltas().keySet());
                        row.put("groups_kept", groupsKept(iv));
                    }
                    double a = method.accuracy();
                    SideEffects e = method.steering() != null ? SideEffects.measure(lm, reference, method.steering())
                            : SideEffects.measure(lm, reference, method.prefix());
                    progress.done();
                    accuracy.put(m, a);
                    effects.put(m, e.asMap());
                    sums.merge(m, a, Double::sum);
                    effectLines.add(String.format("| %s | %s | %.3f | %.3f | %.2f | %.2f |", t.task(), m, e.kl(),
                            e.nllIncrease(), e.steeredNll(), e.unchanged()));
                }
                System.out.println("| " + t.task() + " | " + String.join(" | ",
                        accuracy.values().stream().map(a -> String.format("%.2f", a)).toList()) + " |");
                row.put("task", t.task());
                row.put("accuracy", accuracy);
                row.put("side_effects", effects);
                rows.add(row);
            }
            Map<String, Double> mean = new LinkedHashMap<>();
            sums.forEach((m, s) -> mean.put(m, s / taskList.size()));
            System.out.println("| **mean** | " + String.join(" | ",
                    mean.values().stream().map(a -> String.format("**%.2f**", a)).toList()) + " |");
            System.out.println();
            System.out.printf("Side effects on %d unrelated prompts (base continuations: %.2f nats/token under the base"
                    + " model)%n", prompts.size(), reference.nll());
            System.out.println("| task | method | KL | NLL increase | steered NLL | unchanged |");
            System.out.println("| --- | --- | ---: | ---: | ---: | ---: |");
            effectLines.forEach(System.out::println);

            List<Map<String, Object>> composed = new ArrayList<>();
            List<String> jointLines = new ArrayList<>();
            if (!pairs.isEmpty()) {
                System.out.println();
                System.out.println("| A + B | A alone | A composed | B alone | B composed |");
                System.out.println("| --- | ---: | ---: | ---: | ---: |");
            }
            for (List<String> pair : pairs) {
                TaskFile.Task a = byName.get(pair.get(0));
                TaskFile.Task b = byName.get(pair.get(1));
                progress.show("composing " + a.task() + " + " + b.task());
                TrainResult ra = trained(lm, a, cfg, trained);
                TrainResult rb = trained(lm, b, cfg, trained);
                Map<io.laai.intervention.Intervention, Double> weights = new LinkedHashMap<>();
                weights.put(ra.intervention(), 1.0);
                weights.put(rb.intervention(), 1.0);
                Steering both = Composition.of(weights);
                double aAlone = laaiAccuracy.computeIfAbsent(a.task(),
                        k -> Evaluator.accuracy(lm, ra.intervention().steering(1.0), a.test()));
                double bAlone = laaiAccuracy.computeIfAbsent(b.task(),
                        k -> Evaluator.accuracy(lm, rb.intervention().steering(1.0), b.test()));
                double aComposed = Evaluator.accuracy(lm, both, a.test());
                double bComposed = Evaluator.accuracy(lm, both, b.test());
                SideEffects e = SideEffects.measure(lm, reference, both);
                progress.done();
                System.out.printf("| %s + %s | %.2f | %.2f | %.2f | %.2f |%n", a.task(), b.task(), aAlone, aComposed, bAlone,
                        bComposed);
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("tasks", pair);
                c.put("alone", Map.of(a.task(), aAlone, b.task(), bAlone));
                c.put("composed", Map.of(a.task(), aComposed, b.task(), bComposed));
                c.put("side_effects", e.asMap());
                List<Demonstration> joined = joint.stream().filter(j -> j.pairs(a.task(), b.task()))
                        .flatMap(j -> j.test().stream()).toList();
                if (!joined.isEmpty()) {
                    progress.show("composing " + a.task() + " + " + b.task() + " on prompts both apply to");
                    Map<String, Object> j = new LinkedHashMap<>();
                    j.put("items", joined.size());
                    j.put("base", Evaluator.accuracy(lm, Steering.NONE, joined));
                    j.put(a.task() + " alone", Evaluator.accuracy(lm, ra.intervention().steering(1.0), joined));
                    j.put(b.task() + " alone", Evaluator.accuracy(lm, rb.intervention().steering(1.0), joined));
                    j.put("composed", Evaluator.accuracy(lm, both, joined));
                    progress.done();
                    c.put("joint", j);
                    jointLines.add(String.format("| %s + %s | %d | %.2f | %.2f | %.2f | %.2f |", a.task(), b.task(),
                            joined.size(), j.get("base"), j.get(a.task() + " alone"), j.get(b.task() + " alone"),
                            j.get("composed")));
                }
                composed.add(c);
            }
            if (!jointLines.isEmpty()) {
                System.out.println();
                System.out.println("Prompts both tasks apply to (the task file's compose items):");
                System.out.println("| A + B | items | base | A alone | B alone | composed |");
                System.out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
                jointLines.forEach(System.out::println);
            }
            if (json != null) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("model", lm.id());
                out.put("settings", cfg.asMap());
                out.put("unrelated_prompts", prompts.size());
                out.put("base_nll", reference.nll());
                out.put("tasks", rows);
                out.put("mean", mean);
                if (!composed.isEmpty()) {
                    out.put("composition", composed);
                }
                Files.writeString(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(out));
            }
        }
        return 0;
    }

    /** What a method does to the base model: steering chosen by the prompt's tokens, or a prefix before it; and its accuracy. */
    private record Method(double accuracy, java.util.function.Function<int[], Steering> steering, String prefix) {
        Method(double accuracy, Steering steering) {
            this(accuracy, p -> steering, null);
        }
    }

    private Method method(LanguageModel lm, TaskFile.Task t, String method, TrainConfig cfg,
            Map<String, TrainResult> trained) {
        return switch (method) {
            case "zero-shot" -> new Method(Evaluator.accuracy(lm, Steering.NONE, t.test()), Steering.NONE);
            case "few-shot" -> new Method(Baselines.fewShot(lm, t.train(), t.test()), null,
                    Baselines.fewShotPrefix(Demonstration.rendered(lm, t.train())));
            case "mean-diff" -> {
                Steering s = Composition.of(Map.of(Baselines.meanDiff(lm, t.train()), 1.0));
                yield new Method(Evaluator.accuracy(lm, s, t.test()), s);
            }
            case "laai" -> {
                Steering s = trained(lm, t, cfg, trained).intervention().steering(1.0);
                yield new Method(Evaluator.accuracy(lm, s, t.test()), s);
            }
            default -> throw new IllegalStateException(method);
        };
    }

    /** Heads (attn_heads) or layers (residual) with a non-zero Δ. */
    static int groupsKept(io.laai.intervention.Intervention iv) {
        if (iv.site() == io.laai.intervention.Site.RESIDUAL) {
            return iv.deltas().size();
        }
        int kept = 0;
        for (float[] d : iv.deltas().values()) {
            for (int h = 0; h < iv.numHeads(); h++) {
                float[] head = java.util.Arrays.copyOfRange(d, h * iv.headDim(), (h + 1) * iv.headDim());
                kept += io.laai.intervention.Intervention.norm(head) > 0 ? 1 : 0;
            }
        }
        return kept;
    }

    private static TrainResult trained(LanguageModel lm, TaskFile.Task t, TrainConfig cfg, Map<String, TrainResult> trained) {
        return trained.computeIfAbsent(t.task(), k -> new Trainer(lm).train(t.task(), 1, t.train(), cfg, null, null));
    }
}
