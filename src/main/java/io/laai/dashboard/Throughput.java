package io.laai.dashboard;

import java.util.ArrayDeque;

/**
 * Tokens per second over the last {@link #WINDOW_NANOS}, from samples of a running total taken
 * whenever someone asks: the dashboard polls, so no timer has to run for it.
 */
final class Throughput {

    static final long WINDOW_NANOS = 10_000_000_000L;

    private record Sample(long nanos, long total) {
    }

    private final ArrayDeque<Sample> samples = new ArrayDeque<>();

    /** Records the total now; the rate since the oldest sample in the window, or null with none a second old. */
    synchronized Double rate(long nanos, long total) {
        while (samples.size() > 1 && nanos - samples.peekFirst().nanos() > WINDOW_NANOS) {
            samples.removeFirst();
        }
        samples.addLast(new Sample(nanos, total));
        Sample first = samples.peekFirst();
        if (samples.size() > 64) {
            samples.removeFirst(); // a client polling fast must not grow this without bound
        }
        double seconds = (nanos - first.nanos()) / 1e9;
        return seconds < 1 ? null : (total - first.total()) / seconds;
    }
}
