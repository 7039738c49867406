package io.laai.cli;

/** A user mistake on the command line or in a file it names; printed as one line, exit code 2. */
public class CliException extends RuntimeException {
    public CliException(String message) {
        super(message);
    }
}
