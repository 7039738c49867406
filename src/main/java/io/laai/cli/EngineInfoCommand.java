package io.laai.cli;

import java.util.concurrent.Callable;

import ai.djl.engine.Engine;
import picocli.CommandLine.Command;

/**
 * Starts the PyTorch engine and reports what it sees. The GPU image runs it at build time so DJL
 * fetches the CUDA libtorch then; operators run it to check that a pod sees its GPU.
 */
@Command(name = "engine-info", mixinStandardHelpOptions = true, description = "Show the libtorch version and the GPUs it sees.")
public class EngineInfoCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        Engine engine = Engine.getEngine("PyTorch");
        System.out.printf("engine %s %s, %d GPU(s), default device %s%n", engine.getEngineName(), engine.getVersion(),
                engine.getGpuCount(), engine.defaultDevice());
        return 0;
    }
}
