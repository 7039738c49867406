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
import io.laai.train.Evaluator;
import io.laai.train.TaskFile;
import io.laai.train.TrainConfig;
import io.laai.train.TrainResult;
import io.laai.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Accuracy of each method on each task's test items, as a table and optionally JSON. */
@Command(name = "eval", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Compare zero-shot, few-shot, mean-diff and laai on a task file.")
public class EvalCommand implements Callable<Integer> {

    static final List<String> METHODS = List.of("zero-shot", "few-shot", "mean-diff", "laai");

    @Option(names = "--model", required = true, description = "GGUF file, Hugging Face checkpoint directory, or hf: reference")
    String model;

    @Option(names = "--tasks", required = true, description = "JSONL task file: {task, train, test} per line")
    Path tasks;

    @Option(names = "--methods", split = ",", defaultValue = "zero-shot,few-shot,mean-diff,laai", description = "methods to compare, comma-separated")
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

    @Override
    public Integer call() throws IOException {
        for (String m : methods) {
            if (!METHODS.contains(m)) {
                throw new CliException("unknown method '" + m + "' (known: " + String.join(", ", METHODS) + ")");
            }
        }
        Map<String, String> overrides = new LinkedHashMap<>(settings);
        overrides.putIfAbsent("validation", "none"); // eval scores on the test items; no held-out split needed
        TrainConfig cfg = TrainConfig.DEFAULTS.with(overrides);
        List<TaskFile.Task> taskList = TaskFile.readTasks(tasks);
        for (TaskFile.Task t : taskList) {
            if (t.test().isEmpty()) {
                throw new CliException(tasks + ": task " + t.task() + " has no test items to evaluate");
            }
        }
        try (LanguageModel lm = ModelOption.load(model, Devices.resolve(device), dtype, chatTemplate)) {
            List<Map<String, Object>> rows = new ArrayList<>();
            Map<String, Double> sums = new LinkedHashMap<>();
            System.out.println("| task | " + String.join(" | ", methods) + " |");
            System.out.println("| --- |" + " ---: |".repeat(methods.size()));
            Progress progress = Progress.onTerminal();
            for (TaskFile.Task t : taskList) {
                Map<String, Double> accuracy = new LinkedHashMap<>();
                for (String m : methods) {
                    progress.show("evaluating " + t.task() + " with " + m + " (" + (rows.size() + 1) + " of " + taskList.size()
                            + " tasks)");
                    double a = evaluate(lm, t, m, cfg);
                    progress.done();
                    accuracy.put(m, a);
                    sums.merge(m, a, Double::sum);
                }
                System.out.println("| " + t.task() + " | " + String.join(" | ",
                        accuracy.values().stream().map(a -> String.format("%.2f", a)).toList()) + " |");
                rows.add(Map.of("task", t.task(), "accuracy", accuracy));
            }
            Map<String, Double> mean = new LinkedHashMap<>();
            sums.forEach((m, s) -> mean.put(m, s / taskList.size()));
            System.out.println("| **mean** | " + String.join(" | ",
                    mean.values().stream().map(a -> String.format("**%.2f**", a)).toList()) + " |");
            if (json != null) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("model", lm.id());
                out.put("tasks", rows);
                out.put("mean", mean);
                Files.writeString(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(out));
            }
        }
        return 0;
    }

    private static double evaluate(LanguageModel lm, TaskFile.Task t, String method, TrainConfig cfg) {
        return switch (method) {
            case "zero-shot" -> Evaluator.accuracy(lm, Steering.NONE, t.test());
            case "few-shot" -> Baselines.fewShot(lm, t.train(), t.test());
            case "mean-diff" -> Evaluator.accuracy(lm, Composition.of(Map.of(Baselines.meanDiff(lm, t.train()), 1.0)),
                    t.test());
            case "laai" -> {
                TrainResult r = new Trainer(lm).train(t.task(), 1, t.train(), cfg, null, null);
                yield Evaluator.accuracy(lm, r.intervention().steering(1.0), t.test());
            }
            default -> throw new IllegalStateException(method);
        };
    }
}
