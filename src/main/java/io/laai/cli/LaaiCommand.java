package io.laai.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;

/** {@code laai [command]}: with no command it serves. */
@Command(name = "laai", mixinStandardHelpOptions = true, showDefaultValues = true, version = "LAAI 0.1.0",
        description = "Task-driven layerwise additive activation intervention, as a streaming service.",
        subcommands = {ServeCommand.class, GenerateCommand.class, TrainCommand.class, EvalCommand.class,
                ExportGgufCommand.class, PublishCommand.class, BenchCommand.class, SyntheticModelCommand.class,
                EngineInfoCommand.class,
                picocli.CommandLine.HelpCommand.class})
public class LaaiCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        return new ServeCommand().call();
    }
}
