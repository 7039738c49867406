package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.laai.SharedData;

/** Properties of the one forward pass, on the real stories260K. */
class ForwardPassTest {

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

    @Test
    void kvCacheDecodingEqualsFullRecomputation() {
        int[] ids = lm.tokenizer().encode("Once upon a time, there was a big dog named Max.", true);
        int v = lm.config().vocabSize();
        float[] full = Forward.logits(lm, ids, null);
        int prefill = 4;
        try (NDManager m = lm.transformer().manager().newSubManager();
                KvCache cache = new KvCache(m, lm.config(), 1, ids.length)) {
            boolean[][] valid = new boolean[1][ids.length];
            for (int start = 0; start < ids.length;) {
                int t = start == 0 ? prefill : 1;
                for (int j = 0; j < t; j++) {
                    valid[0][start + j] = true;
                }
                try (NDScope scope = new NDScope()) {
                    long[] stepIds = new long[t];
                    long[] pos = new long[t];
                    for (int j = 0; j < t; j++) {
                        stepIds[j] = ids[start + j];
                        pos[j] = start + j;
                    }
                    NDArray bias = m.create(Generator.attentionBias(valid, t, start, start + t), new Shape(1, 1, t, start + t));
                    float[] got = lm.transformer().forward(m.create(stepIds, new Shape(1, t)), m.create(pos, new Shape(1, t)),
                            bias, cache, null, false).toFloatArray();
                    float[] want = Arrays.copyOfRange(full, start * v, (start + t) * v);
                    float diff = Forward.maxAbsDiff(want, got);
                    // Different matmul shapes round differently; logits here are O(10), so this is ~1e-6 relative.
                    assertTrue(diff <= 5e-5f, "position " + start + ": max |diff| = " + diff);
                }
                start += t;
            }
        }
    }

    @Test
    void batchedEqualsUnbatched() {
        List<String> prompts = List.of("Once upon a time", "The cat sat on the mat and", "Lily");
        Generator g = new Generator(lm);
        for (SamplingParams params : List.of(SamplingParams.greedy(30),
                new SamplingParams(30, 0.8, 0.9, 42, List.of(), false))) {
            List<Generator.Request> requests = prompts.stream()
                    .map(p -> new Generator.Request(p, params, Steering.NONE)).toList();
            List<Generator.Result> batched = g.generate(requests, null);
            for (int i = 0; i < prompts.size(); i++) {
                Generator.Result alone = g.generate(requests.get(i));
                assertEquals(alone.text(), batched.get(i).text(), "prompt " + i + " at temperature " + params.temperature());
                assertEquals(alone.completionTokens(), batched.get(i).completionTokens());
            }
        }
    }

    @Test
    void zeroInterventionEqualsNone() {
        int[] ids = lm.tokenizer().encode("One day, a little boy named", true);
        ModelConfig c = lm.config();
        try (NDManager m = lm.transformer().manager().newSubManager()) {
            NDArray heads = m.zeros(new Shape(1, 1, (long) c.numAttentionHeads() * c.headDim()));
            NDArray resid = m.zeros(new Shape(1, 1, c.hiddenSize()));
            Hooks zero = new Hooks() {
                public NDArray attnHeads(int layer) {
                    return heads;
                }

                public NDArray residual(int layer) {
                    return resid;
                }
            };
            assertArrayEquals(Forward.logits(lm, ids, null), Forward.logits(lm, ids, zero));
        }
        Steering zeros = new Steering() {
            public float[] attnHeads(int layer) {
                return new float[c.numAttentionHeads() * c.headDim()];
            }

            public float[] residual(int layer) {
                return new float[c.hiddenSize()];
            }

            public boolean allPositions() {
                return true;
            }
        };
        Generator g = new Generator(lm);
        assertEquals(g.generate(new Generator.Request("The dog", SamplingParams.greedy(20), Steering.NONE)).text(),
                g.generate(new Generator.Request("The dog", SamplingParams.greedy(20), zeros)).text());
    }

    @Test
    void interventionGradientMatchesFiniteDifferences() {
        int[] ids = lm.tokenizer().encode("The boy was named", true);
        int target = lm.tokenizer().encode("The boy was named Max", true)[ids.length];
        ModelConfig c = lm.config();
        int width = c.numAttentionHeads() * c.headDim();
        int layer = 2;
        Random random = new Random(7);
        float[] delta = new float[width];
        for (int i = 0; i < width; i++) {
            delta[i] = (float) random.nextGaussian() * 0.5f;
        }
        float[] grad;
        try (NDManager m = lm.transformer().manager().newSubManager();
                GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray d = m.create(delta, new Shape(1, 1, width));
            d.setRequiresGradient(true);
            NDArray loss = negLogProb(m, ids, target, onLayer(layer, d));
            collector.backward(loss);
            grad = d.getGradient().toFloatArray();
        }
        for (int i : new int[] {0, 5, 17, 33, width - 1}) {
            double eps = 1e-2;
            double up = negLogProbValue(ids, target, layer, delta, i, eps);
            double down = negLogProbValue(ids, target, layer, delta, i, -eps);
            double numeric = (up - down) / (2 * eps);
            assertEquals(numeric, grad[i], 2e-3 + 2e-2 * Math.abs(numeric), "component " + i);
        }
    }

    private static Hooks onLayer(int layer, NDArray d) {
        return new Hooks() {
            public NDArray attnHeads(int l) {
                return l == layer ? d : null;
            }

            public NDArray residual(int l) {
                return null;
            }
        };
    }

    private static NDArray negLogProb(NDManager m, int[] ids, int target, Hooks hooks) {
        int t = ids.length;
        boolean[][] valid = new boolean[1][t];
        Arrays.fill(valid[0], true);
        NDArray idArray = m.create(Arrays.stream(ids).asLongStream().toArray(), new Shape(1, t));
        NDArray pos = m.arange(0, t, 1, DataType.INT64).reshape(1, t);
        NDArray bias = m.create(Generator.attentionBias(valid, t, 0, t), new Shape(1, 1, t, t));
        NDArray logits = lm.transformer().forward(idArray, pos, bias, null, hooks, true); // (1, 1, V)
        return logits.logSoftmax(-1).get("0, 0, {}", target).neg();
    }

    private static double negLogProbValue(int[] ids, int target, int layer, float[] delta, int i, double eps) {
        float[] shifted = delta.clone();
        shifted[i] += (float) eps;
        try (NDManager m = lm.transformer().manager().newSubManager()) {
            NDArray d = m.create(shifted, new Shape(1, 1, shifted.length));
            return negLogProb(m, ids, target, onLayer(layer, d)).getFloat();
        }
    }
}
