package io.laai.cli;

import io.quarkus.runtime.annotations.QuarkusMain;
import picocli.CommandLine;

/**
 * Entry point of {@code quarkus-run.jar}. Offline commands (generate, train, eval, ...) run
 * without booting the service, so they need no Kafka and no free HTTP port; {@code serve}
 * (the default) boots Quarkus.
 */
@QuarkusMain
public final class Main {

    public static void main(String... args) {
        int code = commandLine().execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new LaaiCommand());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // Users get the reason in one line; a stack trace only where the bug is ours.
            if (e instanceof CliException || e instanceof IllegalArgumentException
                    || e instanceof io.laai.model.ModelFormatException) {
                commandLine.getErr().println("error: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli;
    }
}
