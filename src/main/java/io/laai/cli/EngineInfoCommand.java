package io.laai.cli;

import java.util.concurrent.Callable;

import ai.djl.engine.Engine;
import io.laai.ModelService;
import io.laai.model.Devices;
import io.laai.model.LanguageModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts the PyTorch engine and reports what it sees. The GPU image runs it at build time so DJL
 * fetches the CUDA libtorch then; operators run it to check that a pod sees its GPU. With
 * --model, it loads the model and reports what its weights take, by type.
 */
@Command(name = "engine-info", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Show the libtorch version and the GPUs it sees; with --model, the memory of the loaded weights by type.")
public class EngineInfoCommand implements Callable<Integer> {

    @Option(names = "--model", description = "a GGUF file, checkpoint directory or hf: reference to load and measure")
    String model;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or gpu")
    String device;

    @Option(names = "--dtype", defaultValue = "auto", description = "weight matrices in auto (f32 on CPU, f16 on a GPU), f32 or f16")
    String dtype;

    @Override
    public Integer call() {
        Engine engine = Engine.getEngine("PyTorch");
        System.out.printf("engine %s %s, %d GPU(s), default device %s%n", engine.getEngineName(), engine.getVersion(),
                engine.getGpuCount(), engine.defaultDevice());
        if (model != null) {
            try (LanguageModel lm = ModelOption.load(model, Devices.resolve(device), dtype)) {
                System.out.printf("model %s (%s, %d layers): weights %s%n", lm.id(), lm.config().family().id(),
                        lm.config().numHiddenLayers(), ModelService.weights(lm));
            }
        }
        return 0;
    }
}
