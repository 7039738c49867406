package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.intervention.Composition;
import io.laai.intervention.Intervention;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;

/**
 * Continuous batching on stories260K: requests that join a running batch and leave it at any
 * token produce what each produces alone, through the cache shifting both ways.
 */
class ContinuousGeneratorTest {

    static LanguageModel lm;
    static final String[] PROMPTS = {"Once upon a time", "The boy was named", "Lily saw a big dog. The dog",
        "One day, a little girl went to the park with her mom and her dad. They saw a big tree and", "Tom"};

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

    static Steering steering(int seed, Positions positions) {
        return steering(seed, positions, Map.of());
    }

    static Steering steering(int seed, Positions positions, Map<String, String> metadata) {
        Random r = new Random(seed);
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        Intervention iv = new Intervention("t" + seed, 1, Site.RESIDUAL, positions, new TreeMap<>(Map.of(2, v)),
                lm.fingerprint(), 64, 8, 8, metadata);
        return Composition.of(Map.of(iv, 1.0));
    }

    /** A varied request: greedy or seeded sampling, with or without steering, of different lengths. */
    static Generator.Request request(int i) {
        SamplingParams params = i % 2 == 0 ? SamplingParams.greedy(6 + 3 * (i % 5))
                : new SamplingParams(5 + 2 * (i % 7), 0.9, 0.95, i, List.of(), false);
        Steering s = i % 3 == 0 ? Steering.NONE : steering(i % 4, i % 3 == 1 ? Positions.LAST : Positions.ALL,
                i % 4 == 1 ? Map.of(Intervention.SPAN_TOKENS, Integer.toString(1 + i % 5)) : Map.of());
        return new Generator.Request(PROMPTS[i % PROMPTS.length], params, s);
    }

    static String alone(Generator.Request r) {
        return new Generator(lm).generate(r).text();
    }

    @Test
    void requestsJoinAndLeaveARunningBatchAndEachGetsWhatItGetsAlone() throws Exception {
        try (ContinuousGenerator g = new ContinuousGenerator(lm, 8, 2048)) {
            AtomicInteger pieces = new AtomicInteger();
            Generator.Request longOne = new Generator.Request("Once upon a time", SamplingParams.greedy(400).withIgnoreEos(true),
                    steering(7, Positions.LAST));
            CompletableFuture<Generator.Result> running = g.submit(longOne, text -> pieces.incrementAndGet());
            while (pieces.get() < 10) {
                Thread.sleep(1);
            }
            List<CompletableFuture<Generator.Result>> shorts = new ArrayList<>();
            List<Boolean> longDoneFirst = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int i = 0; i < 12; i++) {
                CompletableFuture<Generator.Result> f = g.submit(request(i), null);
                f.thenRun(() -> longDoneFirst.add(running.isDone())); // runs as the short one completes
                shorts.add(f);
                Thread.sleep(3); // arrivals spread over steps
            }
            for (int i = 0; i < shorts.size(); i++) {
                assertEquals(alone(request(i)), shorts.get(i).get(60, TimeUnit.SECONDS).text(), "request " + i);
            }
            assertEquals(List.of(false), longDoneFirst.stream().distinct().toList(),
                    "every short request left the batch while the long one was still decoding");
            Generator.Result r = running.get(60, TimeUnit.SECONDS);
            assertEquals(400, r.completionTokens());
            assertEquals(alone(longOne), r.text());
        }
    }

    /**
     * A span of n: generation's first n tokens are the unlimited Δ's, and its tokens are what
     * scoring them under the same steering (a path of its own) predicts; past the span the
     * predictions are no longer the unlimited Δ's, so the span did cut.
     */
    @Test
    void aSpanSteersTheFirstTokensOnly() {
        int n = 3;
        for (Positions positions : Positions.values()) {
            Steering unlimited = steering(11, positions);
            Steering spanned = steering(11, positions, Map.of(Intervention.SPAN_TOKENS, Integer.toString(n)));
            assertEquals(n, spanned.span());
            String prompt = "The boy was named";
            SamplingParams p = SamplingParams.greedy(12).withIgnoreEos(true);
            Generator.Result cut = new Generator(lm).generate(new Generator.Request(prompt, p, spanned));
            Generator.Result full = new Generator(lm).generate(new Generator.Request(prompt, p, unlimited));
            org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(full.tokens(), n),
                    java.util.Arrays.copyOf(cut.tokens(), n), positions + ": the first tokens");
            int[] ids = lm.encodePrompt(prompt);
            float[][] scored = PromptScorer.continuation(lm, ids, cut.tokens(), spanned);
            float[][] scoredFull = PromptScorer.continuation(lm, ids, cut.tokens(), unlimited);
            for (int k = 0; k < cut.tokens().length; k++) {
                assertEquals(cut.tokens()[k], argMax(scored[k]), positions + ": token " + k);
                if (k < n) {
                    assertTrue(java.util.Arrays.equals(scored[k], scoredFull[k]), positions + ": token " + k + " is steered");
                }
            }
            assertTrue(!java.util.Arrays.equals(scored[n], scoredFull[n]), positions + ": the span ends at token " + n);
        }
    }

    static int argMax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            best = v[i] > v[best] ? i : best;
        }
        return best;
    }

    @Test
    void aSmallCacheShiftsLeftAndRightAndStaysExact() throws Exception {
        // 64 columns: rows arriving one after another fill the cache and force it to drop leading
        // columns; a long prompt arriving after short ones forces it to open columns in front.
        try (ContinuousGenerator g = new ContinuousGenerator(lm, 4, 64)) {
            List<Generator.Request> requests = new ArrayList<>();
            List<CompletableFuture<Generator.Result>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                Generator.Request r = request(i);
                requests.add(r);
                AtomicInteger pieces = new AtomicInteger();
                CompletableFuture<Generator.Result> f = g.submit(r, text -> pieces.incrementAndGet());
                results.add(f);
                while (pieces.get() < 3 && !f.isDone()) { // the next arrives a few tokens into this one
                    Thread.sleep(1);
                }
            }
            for (int i = 0; i < results.size(); i++) {
                assertEquals(alone(requests.get(i)), results.get(i).get(60, TimeUnit.SECONDS).text(), "request " + i);
            }
            assertTrue(g.shiftsLeft > 0 && g.shiftsRight > 0, "shifts left " + g.shiftsLeft + ", right " + g.shiftsRight);
        }
    }

    @Test
    void aPromptTooLongForTheCacheIsRefusedAtSubmitAndStreamingDeliversTheText() throws Exception {
        try (ContinuousGenerator g = new ContinuousGenerator(lm, 4, 32)) {
            StringBuilder streamed = new StringBuilder();
            Generator.Request ok = new Generator.Request("Once upon a time", SamplingParams.greedy(12), Steering.NONE);
            CompletableFuture<Generator.Result> fine = g.submit(ok, streamed::append);
            // Refused before it is queued, so a streamed answer never starts for it.
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.submit(new Generator.Request(
                    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park every day.",
                    SamplingParams.greedy(4), Steering.NONE), null));
            assertTrue(e.getMessage().contains("laai.edge.kv-tokens is 32"), e.getMessage());
            Generator.Result r = fine.get(30, TimeUnit.SECONDS);
            assertEquals(alone(ok), r.text());
            assertEquals(r.text(), streamed.toString());
        }
    }

    @Test
    void nativeArraysStayFlatAcrossManyRequests() throws Exception {
        ai.djl.ndarray.BaseNDManager manager = (ai.djl.ndarray.BaseNDManager) lm.transformer().manager();
        Generator.Request last = new Generator.Request("The dog", SamplingParams.greedy(3), Steering.NONE);
        try (ContinuousGenerator g = new ContinuousGenerator(lm, 4, 64)) {
            int[] seen = new int[2];
            for (int phase = 0; phase < 2; phase++) {
                List<CompletableFuture<Generator.Result>> all = new ArrayList<>();
                for (int i = 0; i < 60; i++) {
                    all.add(g.submit(request(i), null));
                }
                for (CompletableFuture<Generator.Result> f : all) {
                    f.get(60, TimeUnit.SECONDS);
                }
                g.submit(last, null).get(10, TimeUnit.SECONDS); // the same last batch both times
                seen[phase] = manager.getManagedArrays().size();
            }
            assertEquals(seen[0], seen[1], "live native arrays after 60 and after 120 requests");
            assertTrue(g.shiftsLeft > 0, "the cache shifted");
        }
    }

    @Test
    void aCancelledRequestFreesItsRowAtTheNextStep() throws Exception {
        try (ContinuousGenerator g = new ContinuousGenerator(lm, 1, 2048)) { // one row: the next request needs it
            AtomicInteger pieces = new AtomicInteger();
            CompletableFuture<Generator.Result> abandoned = g.submit(new Generator.Request("Once upon a time",
                    SamplingParams.greedy(2000).withIgnoreEos(true), Steering.NONE), text -> pieces.incrementAndGet());
            while (pieces.get() < 10) {
                Thread.sleep(1);
            }
            abandoned.cancel(false);
            Generator.Request next = new Generator.Request("The dog", SamplingParams.greedy(5), Steering.NONE);
            assertEquals(alone(next), g.submit(next, null).get(30, TimeUnit.SECONDS).text());
            assertTrue(pieces.get() < 2000, "the abandoned request stopped after " + pieces.get() + " pieces");
        }
    }
}
