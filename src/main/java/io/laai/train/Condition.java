package io.laai.train;

import java.util.List;

import io.laai.model.Activations;
import io.laai.model.LanguageModel;

/**
 * When a task's Δ applies, as conditional activation steering decides it: the prompt's hidden
 * state at the last token (the output of {@code layer}, without any Δ) must lie closer to the
 * mean of the task's training prompts than {@code threshold} (cosine similarity). The threshold
 * sits halfway between the least similar training prompt and the most similar anchor text, which
 * stands for prompts the task does not mean. Measured by eval (method laai-conditional); the edge
 * does not apply it yet.
 */
public record Condition(int layer, float[] centroid, double threshold) {

    /** The condition of a task from its training demonstrations. */
    public static Condition fit(LanguageModel lm, List<Demonstration> train) {
        int layer = lm.config().numHiddenLayers() / 2;
        int d = lm.config().hiddenSize();
        float[] centroid = new float[d];
        List<float[]> states = train.stream().map(t -> state(lm, t.promptTokens(lm), layer)).toList();
        for (float[] s : states) {
            for (int j = 0; j < d; j++) {
                centroid[j] += s[j] / states.size();
            }
        }
        double weakestTask = states.stream().mapToDouble(s -> cosine(s, centroid)).min().orElse(1);
        double strongestOther = Anchors.of(lm).stream()
                .mapToDouble(a -> cosine(state(lm, a.demo().promptTokens(lm), layer), centroid)).max().orElse(-1);
        return new Condition(layer, centroid, (weakestTask + strongestOther) / 2);
    }

    /** Whether the Δ applies to a prompt. */
    public boolean holds(LanguageModel lm, int[] promptIds) {
        return cosine(state(lm, promptIds, layer), centroid) >= threshold;
    }

    private static float[] state(LanguageModel lm, int[] ids, int layer) {
        return Activations.lastTokenResiduals(lm, ids)[layer];
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
