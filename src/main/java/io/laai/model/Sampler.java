package io.laai.model;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * Picks the next token from one row's logits: penalties and logit bias first, then greedy, or
 * temperature with top-p, from a seeded source. Log-probabilities, when asked, are of the model's
 * own distribution (the raw logits), as vLLM reports them by default.
 */
final class Sampler {

    private final SamplingParams params;
    private final Random random;
    private final Map<Integer, Integer> counts = new HashMap<>();

    Sampler(SamplingParams params) {
        this.params = params;
        this.random = new Random(params.seed());
    }

    int next(float[] logits, int offset, int vocab) {
        float[] adjusted = adjusted(logits, offset, vocab);
        int token = params.isGreedy() ? argMax(adjusted, 0, vocab) : sample(adjusted, vocab);
        counts.merge(token, 1, Integer::sum);
        return token;
    }

    /** The row's logits with logit bias and penalties applied (a copy; the batch's array is shared). */
    private float[] adjusted(float[] logits, int offset, int vocab) {
        float[] out = Arrays.copyOfRange(logits, offset, offset + vocab);
        for (Map.Entry<Integer, Double> e : params.logitBias().entrySet()) {
            if (e.getKey() < vocab) {
                out[e.getKey()] += e.getValue().floatValue();
            }
        }
        if (params.presencePenalty() != 0 || params.frequencyPenalty() != 0) {
            for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
                out[e.getKey()] -= (float) (params.presencePenalty() + params.frequencyPenalty() * e.getValue());
            }
        }
        return out;
    }

    private int sample(float[] logits, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[i]);
        }
        double[] p = new double[vocab];
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            p[i] = Math.exp((logits[i] - max) / params.temperature());
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

    /** The log-probability of {@code token} and the {@code top} most likely tokens under the raw logits. */
    static TokenLogprob logprobs(float[] logits, int offset, int vocab, int token, int top) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        double logZ = max + Math.log(sum);
        int[] best = new int[Math.min(top, vocab)];
        float[] bestLp = new float[best.length];
        // At most 20 alternatives: keep them in order while scanning, rather than sort the vocabulary.
        int kept = 0;
        for (int i = 0; i < vocab; i++) {
            float v = logits[offset + i];
            if (kept == best.length && (kept == 0 || v <= logits[offset + best[kept - 1]])) {
                continue;
            }
            int at = kept < best.length ? kept++ : kept - 1;
            while (at > 0 && logits[offset + best[at - 1]] < v) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = i;
        }
        for (int k = 0; k < best.length; k++) {
            bestLp[k] = (float) (logits[offset + best[k]] - logZ);
        }
        return new TokenLogprob(token, (float) (logits[offset + token] - logZ), best, bestLp);
    }

    /** log_softmax of logits[offset, offset + vocab), in double, as a new array. */
    static float[] logSoftmax(float[] logits, int offset, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        double logZ = max + Math.log(sum);
        float[] out = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            out[i] = (float) (logits[offset + i] - logZ);
        }
        return out;
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
