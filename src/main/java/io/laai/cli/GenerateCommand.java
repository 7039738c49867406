package io.laai.cli;

import java.util.List;
import java.util.concurrent.Callable;

import io.laai.model.Devices;
import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints the completion of one prompt (not the prompt itself) to stdout. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate a completion for a prompt.")
public class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "GGUF file, Hugging Face checkpoint directory, or hf:owner/name[@revision]")
    String model;

    @Option(names = "--prompt", required = true)
    String prompt;

    @Option(names = "--max-tokens", description = "default: the checkpoint's generation_config.json, else 256")
    Integer maxTokens;

    @Option(names = "--temperature", description = "0 = greedy; default: the checkpoint's generation_config.json, else 0")
    Double temperature;

    @Option(names = "--top-p", description = "default: the checkpoint's generation_config.json, else 1")
    Double topP;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--stop", description = "stop string (repeatable)")
    List<String> stop;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or gpu")
    String device;

    @Option(names = "--dtype", defaultValue = "auto", description = "weight matrices in auto (f32 on CPU, f16 on a GPU), f32 or f16")
    String dtype;

    @Override
    public Integer call() {
        try (LanguageModel lm = ModelOption.load(model, Devices.resolve(device), dtype)) {
            SamplingParams params = lm.generationDefaults().resolve(maxTokens, temperature, topP, seed, stop);
            Generator.Result result = new Generator(lm).generate(new Generator.Request(prompt, params, Steering.NONE));
            System.out.println(result.text());
        }
        return 0;
    }
}
