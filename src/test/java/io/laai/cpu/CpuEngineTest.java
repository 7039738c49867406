package io.laai.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.laai.SharedData;
import io.laai.model.DjlEngine;
import io.laai.model.Engine;
import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.Llama2cCheckpoint;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;

/**
 * The Java engine against the DJL forward on the same loaded weights: logits within 1e-4
 * (relative to the largest logit) over a left-padded batch with a KV cache, decode steps and Δ at
 * both sites and both position rules, on real models and on llama.cpp's quantized files.
 */
class CpuEngineTest {

    static LanguageModel both(Path model) {
        return LanguageModel.load(model, Device.cpu(), DataType.FLOAT32, null, new Engine.Choice(Engine.Kind.JAVA, true, 2));
    }

    /** max |a - b| / max |b| */
    static double relative(float[] a, float[] b) {
        assertEquals(b.length, a.length);
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return diff / scale;
    }

    /** A random Δ at both sites of every layer, one rule per row (row 0 none). */
    static List<Steering> steering(LanguageModel lm, int rows, long seed) {
        Random r = new Random(seed);
        int layers = lm.config().numHiddenLayers();
        int heads = lm.config().numAttentionHeads() * lm.config().headDim();
        int d = lm.config().hiddenSize();
        List<Steering> out = new ArrayList<>();
        out.add(Steering.NONE);
        for (int i = 1; i < rows; i++) {
            float[][] h = new float[layers][];
            float[][] res = new float[layers][];
            for (int l = 0; l < layers; l++) {
                if ((l + i) % 2 == 0) {
                    h[l] = new float[heads];
                    for (int k = 0; k < heads; k++) {
                        h[l][k] = (float) r.nextGaussian() * 0.5f;
                    }
                } else {
                    res[l] = new float[d];
                    for (int k = 0; k < d; k++) {
                        res[l][k] = (float) r.nextGaussian() * 0.5f;
                    }
                }
            }
            boolean all = i % 2 == 0;
            out.add(new Steering() {
                public float[] attnHeads(int layer) {
                    return h[layer];
                }

                public float[] residual(int layer) {
                    return res[layer];
                }

                public boolean allPositions() {
                    return all;
                }
            });
        }
        return out;
    }

    /**
     * Three prompts left-padded into one prefill (with every position's logits), then decode steps
     * on the cache; the largest relative difference over all of them.
     */
    static double compare(LanguageModel lm, long seed) {
        Engine java = lm.engine();
        Engine djl = new DjlEngine(lm.transformer());
        Random r = new Random(seed);
        int vocab = lm.config().vocabSize();
        int[] lengths = {7, 3, 5};
        int b = lengths.length;
        int t = 7;
        int steps = 4;
        boolean[][] valid = new boolean[b][t + steps];
        long[] ids = new long[b * t];
        long[] pos = new long[b * t];
        float[] mask = new float[b * t];
        List<Steering> steering = steering(lm, b, seed);
        for (int i = 0; i < b; i++) {
            int pad = t - lengths[i];
            for (int j = pad; j < t; j++) {
                valid[i][j] = true;
                ids[i * t + j] = 1 + r.nextInt(vocab - 1);
                pos[i * t + j] = j - pad;
                mask[i * t + j] = steering.get(i).allPositions() || j == t - 1 ? 1f : 0f;
            }
        }
        double worst = 0;
        try (Engine.Cache cj = java.cache(b, t + steps); Engine.Cache cd = djl.cache(b, t + steps);
                Engine.Deltas dj = java.deltas(steering); Engine.Deltas dd = djl.deltas(steering)) {
            Engine.Batch prefill = new Engine.Batch(b, t, ids, pos, Generator.attentionBias(valid, t, 0, t), mask);
            float[] a = java.forward(prefill, cj, dj, Engine.Output.ALL).values();
            float[] e = djl.forward(prefill, cd, dd, Engine.Output.ALL).values();
            // Padding positions attend to nothing real; only real positions' logits are compared.
            for (int i = 0; i < b; i++) {
                int from = (i * t + t - lengths[i]) * vocab;
                int to = (i + 1) * t * vocab;
                worst = Math.max(worst, relative(Arrays.copyOfRange(a, from, to), Arrays.copyOfRange(e, from, to)));
            }
            for (int k = 0; k < steps; k++) {
                long[] next = new long[b];
                long[] p = new long[b];
                for (int i = 0; i < b; i++) {
                    next[i] = 1 + r.nextInt(vocab - 1);
                    p[i] = lengths[i] + k;
                    valid[i][t + k] = true;
                }
                Engine.Batch step = new Engine.Batch(b, 1, next, p, Generator.attentionBias(valid, 1, t + k, t + k + 1), null);
                Engine.Logits lj = java.forward(step, cj, dj, Engine.Output.LAST);
                Engine.Logits ld = djl.forward(step, cd, dd, Engine.Output.LAST);
                worst = Math.max(worst, relative(lj.values(), ld.values()));
            }
        }
        // One vector alone: F32, Q8_0, Q4_0, Q4_K and Q6_K rows are multiplied in place, not decoded (other kernels).
        Engine.Batch one = new Engine.Batch(1, 1, new long[] {5}, new long[] {0}, new float[] {0f}, null);
        worst = Math.max(worst, relative(java.forward(one, null, null, Engine.Output.LAST).values(),
                djl.forward(one, null, null, Engine.Output.LAST).values()));
        float[][] ra = java.lastTokenResiduals(new int[] {1, 2, 3, 4});
        float[][] rd = djl.lastTokenResiduals(new int[] {1, 2, 3, 4});
        for (int l = 0; l < ra.length; l++) {
            worst = Math.max(worst, relative(ra[l], rd[l]));
        }
        return worst;
    }

    @Test
    void logitsEqualDjlsOnStories260K() {
        try (LanguageModel lm = both(SharedData.stories260K())) {
            double d = compare(lm, 1);
            assertTrue(d < 1e-4, "relative difference " + d);
            // Its heads of 8 lie key-major; the layout larger heads take gives the same logits.
            ((CpuEngine) lm.engine()).keyMajor(false);
            double rowMajor = compare(lm, 1);
            assertTrue(rowMajor < 1e-4, "row-major: relative difference " + rowMajor);
        }
    }

    @Test
    void logitsEqualDjlsOnAidreams260K(@TempDir Path dir) throws Exception {
        Path hf = Llama2cCheckpoint.writeHfCheckpoint(SharedData.model("aidreams260K/aidreams260K.bin"),
                SharedData.model("aidreams260K/tok512.bin"), dir.resolve("aidreams260K"));
        try (LanguageModel lm = both(hf)) {
            double d = compare(lm, 2);
            assertTrue(d < 1e-4, "relative difference " + d);
        }
    }

    @Test
    void logitsEqualDjlsOnEveryQuantizedFile() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(SharedData.model("quantized"))) {
            files = s.filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
        }
        assertEquals(11, files.size());
        List<String> report = new ArrayList<>();
        for (Path f : files) {
            try (LanguageModel lm = both(f)) {
                double d = compare(lm, 3);
                report.add(f.getFileName() + " " + d);
                assertTrue(d < 1e-4, f.getFileName() + ": relative difference " + d);
            }
        }
        System.out.println(String.join("\n", report));
    }

    @Test
    void greedyTextIsLlama2cReference() {
        try (LanguageModel lm = LanguageModel.load(SharedData.stories260K(), Device.cpu(), DataType.FLOAT32, null,
                new Engine.Choice(Engine.Kind.JAVA, false, 2))) {
            assertTrue(lm.engine() instanceof CpuEngine);
            Generator.Result r = new Generator(lm).generate(new Generator.Request("Once upon a time",
                    SamplingParams.greedy(60), Steering.NONE));
            String text = "Once upon a time" + r.text();
            assertEquals(SharedData.STORIES_REFERENCE.substring(0, 170), text.substring(0, 170));
        }
    }
}
