package io.laai.cli;

import java.util.List;
import java.util.concurrent.Callable;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import io.laai.intervention.Artifacts;
import io.laai.intervention.Composition;
import io.laai.intervention.Intervention;
import io.laai.model.Devices;
import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints the completion of one prompt (not the prompt itself) to stdout. */
@Command(name = "generate", mixinStandardHelpOptions = true, showDefaultValues = true, description = "Generate a completion for a prompt.")
public class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "GGUF file, Hugging Face checkpoint directory, "
            + "hf:owner/name[@revision] or hf:owner/name/path.gguf[@revision]")
    String model;

    @Option(names = "--prompt", required = true, description = "the prompt; only the completion is printed")
    String prompt;

    @Option(names = "--intervention", description = "an artifact to apply (repeatable: the Δs are summed, as the edge composes them)")
    List<Path> interventions;

    @Option(names = "--scale", description = "the weight of each --intervention, in order (repeatable; default 1 each)")
    List<Double> scales;

    @Option(names = "--max-tokens", description = "default: the checkpoint's generation_config.json, else 256")
    Integer maxTokens;

    @Option(names = "--temperature", description = "0 = greedy; default: the checkpoint's generation_config.json, else 0")
    Double temperature;

    @Option(names = "--top-p", description = "default: the checkpoint's generation_config.json, else 1")
    Double topP;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (with --temperature above 0)")
    long seed;

    @Option(names = "--stop", description = "stop string (repeatable)")
    List<String> stop;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or gpu")
    String device;

    @Option(names = "--dtype", defaultValue = "auto", description = "weight matrices in auto (f32 on CPU, f16 on a GPU), f32 or f16")
    String dtype;

    @Override
    public Integer call() {
        // An edge-only build (no libtorch) generates on the Java engine, as its edge serves.
        boolean javaEngine = !io.laai.model.Engine.libtorchPackaged() && !"gpu".equalsIgnoreCase(device.trim());
        try (LanguageModel lm = javaEngine
                ? ModelOption.loadJava(model, dtype, io.laai.model.EngineThreads.cpus())
                : ModelOption.load(model, Devices.resolve(device), dtype)) {
            SamplingParams params = lm.generationDefaults().resolve(maxTokens, temperature, topP, seed, stop);
            Generator.Result result = new Generator(lm).generate(new Generator.Request(prompt, params, steering(lm)));
            System.out.println(result.text());
        }
        return 0;
    }

    /** The artifacts, each checked against the model, weighted by --scale: Σ wᵢ·Δᵢ. */
    private Steering steering(LanguageModel lm) {
        if (interventions == null || interventions.isEmpty()) {
            if (scales != null && !scales.isEmpty()) {
                throw new CliException("--scale needs an --intervention");
            }
            return Steering.NONE;
        }
        if (scales != null && scales.size() > interventions.size()) {
            throw new CliException(scales.size() + " --scale values for " + interventions.size() + " --intervention files");
        }
        Map<Intervention, Double> weighted = new LinkedHashMap<>();
        for (int i = 0; i < interventions.size(); i++) {
            Intervention iv;
            try {
                iv = Artifacts.read(interventions.get(i));
                Artifacts.requireCompatible(iv, lm);
            } catch (RuntimeException e) {
                throw new CliException("--intervention " + interventions.get(i) + ": " + e.getMessage());
            }
            double w = scales != null && i < scales.size() ? scales.get(i) : 1.0;
            if (!Double.isFinite(w)) {
                throw new CliException("--scale " + w + " is not a finite number");
            }
            weighted.merge(iv, w, Double::sum);
        }
        return Composition.of(weighted);
    }
}
