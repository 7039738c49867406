package io.laai.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.laai.SharedData;
import io.laai.intervention.Composition;
import io.laai.intervention.Intervention;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;
import io.laai.model.ContinuousGenerator;
import io.laai.model.Engine;
import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;

/**
 * The same 32 mixed requests served by continuous batching on each engine — greedy and seeded
 * sampling, Δ at both sites under both position rules, compositions, stop strings, arrivals spread
 * so rows join and leave and the small cache shifts — must come back with the same texts.
 */
class EnginesServeAlikeTest {

    static final String[] PROMPTS = {"Once upon a time", "The boy was named", "Lily saw a big dog. The dog",
        "One day, a little girl went to the park with her mom and her dad. They saw a big tree and", "Tom"};

    static Intervention intervention(LanguageModel lm, int seed, Site site, Positions positions) {
        Random r = new Random(seed);
        int width = site == Site.RESIDUAL ? lm.config().hiddenSize() : lm.config().numAttentionHeads() * lm.config().headDim();
        TreeMap<Integer, float[]> deltas = new TreeMap<>();
        for (int layer = seed % 2; layer < lm.config().numHiddenLayers(); layer += 2) {
            float[] v = new float[width];
            for (int i = 0; i < width; i++) {
                v[i] = (float) r.nextGaussian() * 0.7f;
            }
            deltas.put(layer, v);
        }
        return new Intervention("t" + seed, 1, site, positions, deltas, lm.fingerprint(), lm.config().hiddenSize(),
                lm.config().numAttentionHeads(), lm.config().headDim(), Map.of());
    }

    static Generator.Request request(LanguageModel lm, int i) {
        SamplingParams params = i % 2 == 0 ? SamplingParams.greedy(8 + 5 * (i % 5))
                : new SamplingParams(6 + 3 * (i % 7), 0.8, 0.95, i, i % 5 == 1 ? List.of(" the") : List.of(), false);
        Steering s = switch (i % 5) {
            case 0 -> Steering.NONE;
            case 1 -> Composition.of(Map.of(intervention(lm, i, Site.RESIDUAL, Positions.LAST), 1.0));
            case 2 -> Composition.of(Map.of(intervention(lm, i, Site.ATTN_HEADS, Positions.ALL), 0.8));
            case 3 -> Composition.of(Map.of(intervention(lm, i, Site.ATTN_HEADS, Positions.LAST), 1.0,
                    intervention(lm, i + 1, Site.RESIDUAL, Positions.LAST), -0.5));
            default -> Composition.of(Map.of(intervention(lm, i, Site.RESIDUAL, Positions.ALL), 0.6));
        };
        return new Generator.Request(PROMPTS[i % PROMPTS.length], params, s);
    }

    static List<String> serve(LanguageModel lm, int[] shifts) throws Exception {
        List<String> texts = new ArrayList<>();
        try (ContinuousGenerator g = new ContinuousGenerator(lm, 8, 96)) {
            List<CompletableFuture<Generator.Result>> results = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                AtomicInteger pieces = new AtomicInteger();
                CompletableFuture<Generator.Result> f = g.submit(request(lm, i), text -> pieces.incrementAndGet());
                results.add(f);
                // Every fourth request waits for a few tokens of its own, so later ones join a running batch.
                while (i % 4 == 3 && pieces.get() < 3 && !f.isDone()) {
                    Thread.sleep(1);
                }
            }
            for (CompletableFuture<Generator.Result> f : results) {
                texts.add(f.get(120, TimeUnit.SECONDS).text());
            }
            shifts[0] = g.shiftsLeft();
            shifts[1] = g.shiftsRight();
        }
        return texts;
    }

    @Test
    void thirtyTwoMixedRequestsGetTheSameTextsFromBothEngines() throws Exception {
        List<String> java;
        List<String> djl;
        int[] shifts = new int[2];
        try (LanguageModel lm = LanguageModel.load(SharedData.stories260K(), Device.cpu(), DataType.FLOAT32, null,
                new Engine.Choice(Engine.Kind.JAVA, false, 2))) {
            java = serve(lm, shifts);
        }
        assertTrue(shifts[0] > 0, "the Java engine's cache shifted left " + shifts[0] + " times");
        try (LanguageModel lm = LanguageModel.load(SharedData.stories260K(), Device.cpu())) {
            djl = serve(lm, new int[2]);
        }
        for (int i = 0; i < java.size(); i++) {
            assertEquals(djl.get(i), java.get(i), "request " + i);
        }
        assertTrue(java.stream().distinct().count() > 16, "the requests differ: " + java);
    }
}
