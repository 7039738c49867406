package io.laai.model;

import java.util.Arrays;
import java.util.Random;

/** Picks the next token from one row's logits: greedy, or temperature with top-p, from a seeded source. */
final class Sampler {

    private final SamplingParams params;
    private final Random random;

    Sampler(SamplingParams params) {
        this.params = params;
        this.random = new Random(params.seed());
    }

    int next(float[] logits, int offset, int vocab) {
        if (params.isGreedy()) {
            return argMax(logits, offset, vocab);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double[] p = new double[vocab];
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            p[i] = Math.exp((logits[offset + i] - max) / params.temperature());
            sum += p[i];
        }
        Integer[] order = null;
        int keep = vocab;
        if (params.topP() < 1) {
            order = new Integer[vocab];
            for (int i = 0; i < vocab; i++) {
                order[i] = i;
            }
            double[] probs = p;
            Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
            double cum = 0;
            for (keep = 0; keep < vocab && cum < params.topP() * sum; keep++) {
                cum += p[order[keep]];
            }
            sum = cum;
        }
        double r = random.nextDouble() * sum;
        for (int j = 0; j < keep; j++) {
            int i = order == null ? j : order[j];
            r -= p[i];
            if (r <= 0) {
                return i;
            }
        }
        return order == null ? vocab - 1 : order[keep - 1];
    }

    static int argMax(float[] logits, int offset, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[offset + i] > logits[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}
