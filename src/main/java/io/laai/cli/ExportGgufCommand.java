package io.laai.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.laai.intervention.Artifacts;
import io.laai.intervention.ControlVectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Writes a residual/all artifact as a llama.cpp control vector. */
@Command(name = "export-gguf", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Export an intervention as a llama.cpp control vector (residual site, all positions only).")
public class ExportGgufCommand implements Callable<Integer> {

    @Option(names = "--intervention", required = true, description = "the artifact (.safetensors)")
    Path intervention;

    @Option(names = "--out", required = true, description = "the control vector to write (.gguf)")
    Path out;

    @Override
    public Integer call() throws IOException {
        ControlVectors.write(Artifacts.read(intervention), out);
        System.out.println("wrote " + out);
        return 0;
    }
}
