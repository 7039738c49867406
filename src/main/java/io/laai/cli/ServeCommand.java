package io.laai.cli;

import java.util.concurrent.Callable;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import picocli.CommandLine.Command;

/** Runs the service (trainer, edge or both, per laai.role) until it is stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Run the service; settings come from application.properties, env and -D system properties.")
public class ServeCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        Quarkus.run(Service.class);
        return 0;
    }

    /** The running service: waits for a shutdown signal. */
    public static class Service implements QuarkusApplication {
        @Override
        public int run(String... args) {
            Quarkus.waitForExit();
            return 0;
        }
    }
}
