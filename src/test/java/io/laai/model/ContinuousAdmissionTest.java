package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.djl.Device;
import io.laai.SharedData;

/**
 * The edge's admission on stories260K: long prompts prefill in chunks within the memory budget
 * (the process's peak RSS grows by no more than the budget plus a margin), a full queue refuses
 * with 429 at once, a request past its deadline ends with 503, and a chunked prefill generates
 * what a single pass does.
 */
class ContinuousAdmissionTest {

    /** Java heap growth, allocator slack and libtorch's own caches beyond the budget. */
    static final long MARGIN = 384L << 20;

    static LanguageModel lm;

    @BeforeAll
    static void load() {
        lm = LanguageModel.load(SharedData.stories260K(), Device.cpu());
    }

    @AfterAll
    static void close() {
        if (lm != null) {
            lm.close();
        }
    }

    /** About 4,500 characters: half of laai.edge.max-prompt-chars, well under 2,048 tokens. */
    static String longPrompt(int variant) {
        StringBuilder b = new StringBuilder();
        while (b.length() < 4500) {
            b.append("Once upon a time, there was a little girl named Lily").append(variant % 7).append(". ");
        }
        return b.toString();
    }

    static Generator.Request request(String prompt, int maxTokens) {
        return new Generator.Request(prompt, SamplingParams.greedy(maxTokens), Steering.NONE);
    }

    @Test
    void longPromptsConcurrentlyStayWithinTheBudget() throws Exception {
        int rows = 8;
        int kv = 2048;
        MemoryEstimate m = new MemoryEstimate(lm.config());
        long budget = m.kvCacheBytes(rows, kv) + m.inferenceBytes(rows, rows, kv) + 2 * m.prefillBytes(1, kv, 256);
        var admission = new ContinuousGenerator.Admission(budget, 256, 16, Duration.ofMinutes(5));
        try (ContinuousGenerator g = new ContinuousGenerator(lm, rows, kv, admission)) {
            g.submit(request("Once upon a time", 4), null).get(60, TimeUnit.SECONDS); // the cache is allocated
            for (int clients : new int[] {4, 32}) {
                resetPeak();
                long before = rss();
                List<CompletableFuture<Generator.Result>> running = new ArrayList<>();
                int refused = 0;
                for (int i = 0; i < clients; i++) {
                    try {
                        running.add(g.submit(request(longPrompt(i), 64), null));
                    } catch (ContinuousGenerator.Refused e) {
                        assertEquals(429, e.status(), e.getMessage());
                        assertTrue(e.getMessage().contains("laai.edge.max-queued"), e.getMessage());
                        refused++;
                    }
                }
                for (CompletableFuture<Generator.Result> f : running) {
                    Generator.Result r = f.get(300, TimeUnit.SECONDS);
                    assertTrue(r.promptTokens() > 1000, "a long prompt: " + r.promptTokens() + " tokens");
                    assertEquals(64, r.completionTokens());
                }
                long growth = peak() - before;
                System.out.println(clients + " long prompts: peak RSS growth " + MemoryEstimate.mib(growth) + ", budget "
                        + MemoryEstimate.mib(budget) + ", " + refused + " refused");
                assertTrue(growth <= budget + MARGIN, clients + " clients: peak RSS grew by " + MemoryEstimate.mib(growth)
                        + ", over the budget " + MemoryEstimate.mib(budget) + " + margin " + MemoryEstimate.mib(MARGIN));
                if (clients == 4) {
                    assertEquals(0, refused, "4 requests fit the queue");
                } else {
                    assertTrue(refused > 0 && refused <= clients - 16, "32 requests over a queue of 16 + 8 rows: "
                            + refused + " refused");
                }
            }
        }
    }

    @Test
    void chunkedPrefillGeneratesWhatOnePassDoes() throws Exception {
        String prompt = longPrompt(3).substring(0, 1200);
        List<String> texts = new ArrayList<>();
        for (int chunk : new int[] {7, 64, 4096}) {
            var admission = new ContinuousGenerator.Admission(Long.MAX_VALUE, chunk, 8, Duration.ofMinutes(5));
            try (ContinuousGenerator g = new ContinuousGenerator(lm, 2, 1024, admission)) {
                texts.add(g.submit(request(prompt, 24), null).get(60, TimeUnit.SECONDS).text());
            }
        }
        assertEquals(texts.get(2), texts.get(0), "chunks of 7 tokens");
        assertEquals(texts.get(2), texts.get(1), "chunks of 64 tokens");
    }

    @Test
    void aRequestPastItsDeadlineEndsWith503() throws Exception {
        var admission = new ContinuousGenerator.Admission(Long.MAX_VALUE, 256, 8, Duration.ofMillis(300));
        try (ContinuousGenerator g = new ContinuousGenerator(lm, 2, 2048, admission)) {
            Generator.Request endless = new Generator.Request("Once upon a time",
                    SamplingParams.greedy(2000).withIgnoreEos(true), Steering.NONE);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> g.submit(endless, null).get(60, TimeUnit.SECONDS));
            ContinuousGenerator.Refused r = (ContinuousGenerator.Refused) e.getCause();
            assertEquals(503, r.status());
            assertTrue(r.getMessage().contains("laai.edge.request-timeout"), r.getMessage());
            // The row is free again: the next request runs.
            assertEquals(4, g.submit(request("Once upon a time", 4), null).get(60, TimeUnit.SECONDS).completionTokens());
        }
    }

    @Test
    void aBudgetThatCannotHoldTheCacheIsRefusedWithTheNumbers() {
        var admission = new ContinuousGenerator.Admission(1 << 20, 256, 8, Duration.ofMinutes(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ContinuousGenerator(lm, 32, 2048, admission));
        assertTrue(e.getMessage().contains("laai.edge.memory-budget") && e.getMessage().contains("laai.edge.max-batch"),
                e.getMessage());
    }

    static void resetPeak() throws IOException {
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    }

    static long rss() throws IOException {
        return status("VmRSS:");
    }

    static long peak() throws IOException {
        return status("VmHWM:");
    }

    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        fail("no " + field + " in /proc/self/status");
        return 0;
    }
}
