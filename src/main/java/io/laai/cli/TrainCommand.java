package io.laai.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import io.laai.model.Devices;
import io.laai.model.LanguageModel;
import io.laai.train.Demonstration;
import io.laai.train.TaskFile;
import io.laai.train.TrainConfig;
import io.laai.train.TrainResult;
import io.laai.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Trains one intervention from a demonstrations file and writes its artifact. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Learn an intervention from demonstrations.")
public class TrainCommand implements Callable<Integer> {

    @Option(names = "--model", required = true)
    String model;

    @Option(names = "--demos", required = true, description = "JSONL: {prompt, completion} per line")
    Path demos;

    @Option(names = "--task", required = true)
    String task;

    @Option(names = "--out", required = true, description = "artifact to write (.safetensors)")
    Path out;

    @Option(names = "--version", defaultValue = "1")
    long version;

    @Option(names = "--warm-start", description = "an earlier artifact of this task to start from")
    Path warmStart;

    @Option(names = "--site", description = "attn_heads (default) or residual")
    String site;

    @Option(names = "--positions", description = "last (default) or all")
    String positions;

    @Option(names = "--layers", description = "all (default), auto, or a list like 1,3")
    String layers;

    @Option(names = "--steps")
    Integer steps;

    @Option(names = "--learning-rate")
    Double learningRate;

    @Option(names = "--lambda1")
    Double lambda1;

    @Option(names = "--lambda2")
    Double lambda2;

    @Option(names = "--patience")
    Integer patience;

    @Option(names = "--seed")
    Long seed;

    @Option(names = "--validation", description = "auto (default), loo, split or none")
    String validation;

    @Option(names = "--device", defaultValue = "auto")
    String device;

    @Option(names = "--dtype", defaultValue = "auto", description = "weight matrices in auto (f32 on CPU, f16 on a GPU), f32 or f16")
    String dtype;

    @Override
    public Integer call() throws IOException {
        String problem = io.laai.contract.TaskId.problem(task);
        if (problem != null) {
            throw new CliException("--task: " + problem);
        }
        TrainConfig cfg = TrainConfig.DEFAULTS.with(overrides());
        List<Demonstration> demonstrations = TaskFile.readDemonstrations(demos);
        try (LanguageModel lm = ModelOption.load(model, Devices.resolve(device), dtype)) {
            Intervention start = null;
            if (warmStart != null) {
                start = Artifacts.read(warmStart);
                Artifacts.requireCompatible(start, lm);
            }
            TrainResult r = new Trainer(lm).train(task, version, demonstrations, cfg, start, null);
            Artifacts.write(r.intervention(), out);
            System.out.printf("task %s v%d: %d demonstrations, %d steps in %.1f s, train loss %.4f%n", task, version,
                    demonstrations.size(), r.steps(), r.millis() / 1000.0, r.trainLoss());
            System.out.printf("held-out accuracy %.2f (base model %.2f), held-out loss %.4f (base %.4f)%n",
                    r.valAccuracy(), r.baseValAccuracy(), r.valLoss(), r.baseValLoss());
            System.out.printf("kept layers %s, %d active %s; wrote %s%n", r.intervention().deltas().keySet(),
                    r.intervention().activeGroups(), cfg.site().id().equals("attn_heads") ? "heads" : "layers", out);
        }
        return 0;
    }

    private Map<String, String> overrides() {
        Map<String, String> o = new LinkedHashMap<>();
        put(o, "site", site);
        put(o, "positions", positions);
        put(o, "layers", layers);
        put(o, "steps", steps);
        put(o, "learning_rate", learningRate);
        put(o, "lambda1", lambda1);
        put(o, "lambda2", lambda2);
        put(o, "patience", patience);
        put(o, "seed", seed);
        put(o, "validation", validation);
        return o;
    }

    private static void put(Map<String, String> o, String key, Object value) {
        if (value != null) {
            o.put(key, value.toString());
        }
    }
}
