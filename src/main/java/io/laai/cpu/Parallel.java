package io.laai.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads for one engine; {@link #forEach} splits a loop over them and the
 * caller, and returns when every part has run. Small loops run on the caller alone: waking a
 * thread costs more than they do.
 *
 * <p>Workers spin for a while after each loop before they park: a decode step is a few hundred
 * loops of tens of microseconds, and a parked thread took so long to wake that the caller had run
 * four parts in five of stories260K's attention before the worker joined (a JFR profile of 32
 * sequences). One loop runs at a time; a second caller meanwhile (a condition's forward pass on a
 * request thread) runs its loop on its own thread.
 */
final class Parallel implements AutoCloseable {

    /** How long an idle worker spins before it parks. */
    private static final long SPIN_NANOS = 200_000;

    private final int threads;
    private final Thread[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Loop loop;
    private volatile boolean closed;

    /** One forEach in flight: its parts are taken in order by whichever thread is free. */
    private static final class Loop {
        final int parts;
        final IntConsumer part;
        final int helpers;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger joined = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failed = new AtomicReference<>();

        Loop(int parts, IntConsumer part, int helpers) {
            this.parts = parts;
            this.part = part;
            this.helpers = helpers;
        }

        void drain() {
            try {
                for (int i = next.getAndIncrement(); i < parts && failed.get() == null; i = next.getAndIncrement()) {
                    part.accept(i);
                }
            } catch (Throwable e) {
                failed.compareAndSet(null, e);
            }
        }
    }

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("the Java engine needs at least one thread, was " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = new Thread(this::work, "laai-cpu-" + (w + 1));
            workers[w].setDaemon(true);
            workers[w].start();
        }
    }

    int threads() {
        return threads;
    }

    private void work() {
        Loop seen = null;
        long idleSince = System.nanoTime();
        while (!closed) {
            Loop l = loop;
            if (l != null && l != seen) {
                seen = l;
                // At most `helpers` workers join; each that did reports when it is through.
                if (l.joined.getAndIncrement() < l.helpers) {
                    l.drain();
                    l.done.incrementAndGet();
                }
                idleSince = System.nanoTime();
                continue;
            }
            if (System.nanoTime() - idleSince < SPIN_NANOS) {
                Thread.onSpinWait();
            } else {
                // forEach unparks every worker after publishing its loop, so a loop published
                // between the check above and this park only makes the park return at once.
                LockSupport.parkNanos(this, 10_000_000L);
            }
        }
    }

    /**
     * Runs part(i) for i in [0, parts), spread over the threads when {@code work} (a rough count
     * of multiply-adds) makes that worth it; parts are taken in order by whichever thread is free.
     */
    void forEach(int parts, long work, IntConsumer part) {
        int helpers = workers(parts, work) - 1;
        if (helpers <= 0 || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < parts; i++) {
                part.accept(i);
            }
            return;
        }
        Loop l = new Loop(parts, part, helpers);
        try {
            loop = l;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            l.drain();
            // Every part has been taken; wait for the workers that joined to finish theirs.
            while (l.done.get() < Math.min(l.joined.get(), helpers)) {
                Thread.onSpinWait();
            }
        } finally {
            busy.set(false);
        }
        Throwable e = l.failed.get();
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error err) {
            throw err;
        }
    }

    private int workers(int parts, long work) {
        return (int) Math.min(Math.min(threads, parts), Math.max(1, work / 32_768));
    }

    /**
     * {@link #forEach}, but where the loop stays on the caller it runs here, at a call site of its
     * own: forEach's one call site sees every loop of the engine, and a megamorphic call there is
     * neither inlined nor cheap for a single stream's small loops.
     */
    void forEachSmall(int parts, long work, IntConsumer part) {
        if (workers(parts, work) > 1) {
            forEach(parts, work, part);
            return;
        }
        for (int i = 0; i < parts; i++) {
            part.accept(i);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
