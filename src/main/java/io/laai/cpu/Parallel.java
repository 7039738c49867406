package io.laai.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads for one engine; {@link #forEach} splits a loop over them and the
 * caller, and returns when every part has run. Small loops run on the caller alone: waking a
 * thread costs more than they do.
 */
final class Parallel implements AutoCloseable {

    private final int threads;
    private final ExecutorService pool;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("the Java engine needs at least one thread, was " + threads);
        }
        this.threads = threads;
        AtomicInteger n = new AtomicInteger();
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "laai-cpu-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    int threads() {
        return threads;
    }

    /**
     * Runs part(i) for i in [0, parts), spread over the threads when {@code work} (a rough count
     * of multiply-adds) makes that worth it; parts are taken in order by whichever thread is free.
     */
    void forEach(int parts, long work, IntConsumer part) {
        int workers = workers(parts, work);
        if (workers <= 1) {
            for (int i = 0; i < parts; i++) {
                part.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(workers - 1);
        Runnable drain = () -> {
            try {
                for (int i = next.getAndIncrement(); i < parts && failed.get() == null; i = next.getAndIncrement()) {
                    part.accept(i);
                }
            } catch (Throwable e) {
                failed.compareAndSet(null, e);
            }
        };
        for (int w = 1; w < workers; w++) {
            pool.execute(() -> {
                try {
                    drain.run();
                } finally {
                    done.countDown();
                }
            });
        }
        drain.run();
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the engine's threads ran", e);
        }
        Throwable e = failed.get();
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
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
