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
@Command(name = "train", mixinStandardHelpOptions = true, showDefaultValues = true, description = "Learn an intervention from demonstrations.")
public class TrainCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "GGUF file, Hugging Face checkpoint directory, or hf: reference")
    String model;

    @Option(names = "--demos", required = true, description = "JSONL: {prompt, completion} per line")
    Path demos;

    @Option(names = "--task", required = true, description = "the task id (1-128 letters, digits, '.', '_', '-'; not base)")
    String task;

    @Option(names = "--out", required = true, description = "artifact to write (.safetensors)")
    Path out;

    @Option(names = "--artifact-version", defaultValue = "1", description = "the version the artifact carries")
    long version;

    @Option(names = "--export", description = "llama.cpp: train what a llama.cpp control vector holds exactly (residual site,"
            + " every position and generated token, layers 1.. only, as it cannot address layer 0), so export-gguf accepts the"
            + " artifact")
    String export;

    @Option(names = "--warm-start", description = "an earlier artifact of this task to start from")
    Path warmStart;

    @Option(names = "--site", description = "residual (default) or attn_heads")
    String site;

    @Option(names = "--positions", description = "last (default) or all")
    String positions;

    @Option(names = "--layers", description = "all (default), auto, or a list like 1,3")
    String layers;

    @Option(names = "--steps", description = "most optimisation steps (default 200)")
    Integer steps;

    @Option(names = "--learning-rate", description = "Adam's learning rate (default 0.1)")
    Double learningRate;

    @Option(names = "--lambda1", description = "weight of the L1 penalty on Δ (default 1e-4)")
    Double lambda1;

    @Option(names = "--lambda2", description = "weight of the group penalty Σ‖Δ_group‖₂ (default 1e-2)")
    Double lambda2;

    @Option(names = "--patience", description = "steps without improvement before stopping (default 20)")
    Integer patience;

    @Option(names = "--seed", description = "seed of the held-out split (default 0)")
    Long seed;

    @Option(names = "--kl-weight", description = "weight of KL(base ‖ steered) on unrelated anchor text (default 0)")
    String klWeight;

    @Option(names = "--condition", description = "true (default): apply only to prompts like the demonstrations'; false: to"
            + " every prompt")
    String condition;

    @Option(names = "--target-loss", description = "stop a fit once the completions' mean cross-entropy is at most this"
            + " (nats/token; default 0.05; 0: never)")
    String targetLoss;

    @Option(names = "--span", description = "completion (default): Δ steers as many generated tokens as the longest"
            + " completion has, then the base model goes on; all: every generated token")
    String span;

    @Option(names = "--condition-strictness", description = "where the condition's threshold lies, from the most similar"
            + " generic text (0) to the least similar demonstration (1); default 0.25")
    String conditionStrictness;

    @Option(names = "--validation", description = "auto (default), loo, split or none")
    String validation;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or gpu")
    String device;

    @Option(names = "--dtype", defaultValue = "auto", description = "weight matrices in auto (f32 on CPU, f16 on a GPU), f32 or f16")
    String dtype;

    @Option(names = "--chat-template", description = "a Jinja2 chat template for demonstrations given as messages, in place of"
            + " the model's own")
    java.nio.file.Path chatTemplate;

    @Override
    public Integer call() throws IOException {
        String problem = io.laai.contract.TaskId.problem(task);
        if (problem != null) {
            throw new CliException("--task: " + problem);
        }
        TrainConfig cfg = TrainConfig.DEFAULTS.with(overrides());
        if (export != null && !export.equals("llama.cpp")) {
            throw new CliException("--export " + export + ": the one export format is llama.cpp");
        }
        List<Demonstration> demonstrations = TaskFile.readDemonstrations(demos);
        try (LanguageModel lm = ModelOption.load(model, Devices.resolve(device), dtype, chatTemplate)) {
            if (export != null) {
                cfg = exportable(cfg, lm.config().numHiddenLayers());
            }
            Intervention start = null;
            if (warmStart != null) {
                start = Artifacts.read(warmStart);
                Artifacts.requireCompatible(start, lm);
            }
            Progress progress = Progress.onTerminal();
            TrainResult r = new Trainer(lm).train(task, version, demonstrations, cfg, start,
                    progress.shown() ? progress.training("training " + task) : null);
            progress.done();
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

    /** What a llama.cpp control vector addresses: the residual stream at every position, layers 1 to L-1. */
    private TrainConfig exportable(TrainConfig cfg, int numLayers) {
        if ((site != null && !site.equals("residual")) || (positions != null && !positions.equals("all"))) {
            throw new CliException("--export llama.cpp trains the residual site at all positions; drop --site/--positions");
        }
        List<Integer> wanted = layers == null || layers.equals("all") ? null : cfg.layerList(numLayers);
        if (wanted != null && wanted.contains(0)) {
            throw new CliException("--export llama.cpp cannot use layer 0 (a control vector's direction.N starts at layer 1)");
        }
        String list = wanted != null ? layers : java.util.stream.IntStream.range(1, numLayers).mapToObj(Integer::toString)
                .collect(java.util.stream.Collectors.joining(","));
        Map<String, String> o = overrides();
        o.put("site", "residual");
        o.put("positions", "all");
        o.put("layers", list);
        o.put("condition", "false"); // llama.cpp applies a control vector to every prompt
        o.put("span", "all"); // and at every generated token
        return TrainConfig.DEFAULTS.with(o);
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
        put(o, "kl_weight", klWeight);
        put(o, "condition", condition);
        put(o, "target_loss", targetLoss);
        put(o, "span", span);
        put(o, "condition_strictness", conditionStrictness);
        return o;
    }

    private static void put(Map<String, String> o, String key, Object value) {
        if (value != null) {
            o.put(key, value.toString());
        }
    }
}
