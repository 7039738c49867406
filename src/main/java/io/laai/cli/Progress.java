package io.laai.cli;

import java.io.PrintStream;

import io.laai.train.TrainingProgress;

/**
 * Progress of a long command on the terminal (stderr, one line rewritten in place); silent when
 * stderr is not a terminal (piped, CI, a test), so scripts see only the results on stdout.
 */
final class Progress {

    private final PrintStream out;
    private long lastShown;

    private Progress(PrintStream out) {
        this.out = out;
    }

    /** On a terminal, a progress line on stderr; else nothing. */
    static Progress onTerminal() {
        return new Progress(System.console() != null ? System.err : null);
    }

    boolean shown() {
        return out != null;
    }

    /** Replaces the line, at most ten times a second. */
    void show(String line) {
        long now = System.nanoTime();
        if (out != null && now - lastShown > 100_000_000L) {
            lastShown = now;
            out.print("\r\033[K" + line);
            out.flush();
        }
    }

    /** Clears the line once the work is done. */
    void done() {
        if (out != null) {
            out.print("\r\033[K");
            out.flush();
        }
    }

    /** A training's steps as "<what>: step N, loss X". */
    TrainingProgress training(String what) {
        return (step, crossEntropy, objective) -> show(String.format("%s: step %d, loss %.4f", what, step, crossEntropy));
    }
}
