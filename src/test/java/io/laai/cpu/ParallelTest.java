package io.laai.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

/** The engine's threads: every part runs once, on more than one thread, whoever calls, and failures reach the caller. */
class ParallelTest {

    @Test
    void everyPartRunsOnceAcrossTheThreads() {
        try (Parallel p = new Parallel(3)) {
            for (int round = 0; round < 2_000; round++) {
                int parts = 1 + round % 37;
                AtomicIntegerArray runs = new AtomicIntegerArray(parts);
                p.forEach(parts, Long.MAX_VALUE, runs::incrementAndGet);
                for (int i = 0; i < parts; i++) {
                    assertEquals(1, runs.get(i), "round " + round + ", part " + i);
                }
            }
            // Enough work for the workers: parts that wait a little land on more than one thread.
            ConcurrentHashMap<String, Boolean> seen = new ConcurrentHashMap<>();
            for (int round = 0; round < 50 && seen.size() < 2; round++) {
                p.forEach(64, Long.MAX_VALUE, i -> {
                    seen.put(Thread.currentThread().getName(), true);
                    long until = System.nanoTime() + 20_000;
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                });
            }
            assertTrue(seen.size() >= 2, "the parts ran on " + seen.keySet());
        }
    }

    @Test
    void twoCallersAtOnceEachGetTheirWholeLoop() throws Exception {
        try (Parallel p = new Parallel(2)) {
            int rounds = 500;
            AtomicIntegerArray a = new AtomicIntegerArray(rounds * 16);
            AtomicIntegerArray b = new AtomicIntegerArray(rounds * 16);
            CountDownLatch start = new CountDownLatch(1);
            Thread other = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int r = 0; r < rounds; r++) {
                    int base = r * 16;
                    p.forEach(16, Long.MAX_VALUE, i -> b.incrementAndGet(base + i));
                }
            });
            other.start();
            start.countDown();
            for (int r = 0; r < rounds; r++) {
                int base = r * 16;
                p.forEach(16, Long.MAX_VALUE, i -> a.incrementAndGet(base + i));
            }
            other.join(60_000);
            for (int i = 0; i < rounds * 16; i++) {
                assertEquals(1, a.get(i), "caller A, part " + i);
                assertEquals(1, b.get(i), "caller B, part " + i);
            }
        }
    }

    @Test
    void aFailingPartReachesTheCaller() {
        try (Parallel p = new Parallel(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.forEach(100, Long.MAX_VALUE, i -> {
                if (i == 57) {
                    throw new IllegalStateException("part 57");
                }
            }));
            assertEquals("part 57", e.getMessage());
            AtomicIntegerArray runs = new AtomicIntegerArray(10);
            p.forEach(10, Long.MAX_VALUE, runs::incrementAndGet);
            for (int i = 0; i < 10; i++) {
                assertEquals(1, runs.get(i), "the next loop runs whole");
            }
        }
    }
}
