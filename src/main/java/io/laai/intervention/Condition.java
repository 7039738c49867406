package io.laai.intervention;

import java.util.List;

import io.laai.model.Activations;
import io.laai.model.LanguageModel;

/**
 * When an intervention applies, as conditional activation steering decides it: the prompt's
 * hidden state at its last token (the output of {@code layer}, without any Δ), less {@code center},
 * must have a cosine similarity of at least {@code threshold} to {@code centroid}, the mean of the
 * task's training prompts' states less the same center. The center is the mean state of generic
 * text (null: none, as artifacts before it): what every prompt shares, which would otherwise make
 * any two prompts look alike. Decided once per request, before generation.
 */
public record Condition(int layer, float[] centroid, float[] center, double threshold) {

    public Condition {
        if (layer < 0 || centroid.length == 0 || !Double.isFinite(threshold)) {
            throw new IllegalArgumentException("a condition needs a layer, a centroid and a finite threshold");
        }
        if (center != null && center.length != centroid.length) {
            throw new IllegalArgumentException("the condition's center has " + center.length + " values, its centroid "
                    + centroid.length);
        }
        for (float[] a : center == null ? new float[][] {centroid} : new float[][] {centroid, center}) {
            for (float v : a) {
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("the condition's centroid or center holds a non-finite value");
                }
            }
        }
        centroid = centroid.clone();
        center = center == null ? null : center.clone();
    }

    /** Without a center. */
    public Condition(int layer, float[] centroid, double threshold) {
        this(layer, centroid, null, threshold);
    }

    public boolean holds(float[] state) {
        return margin(state) >= 0;
    }

    /** How far the state's similarity lies above the threshold (negative: below, the condition does not hold). */
    public double margin(float[] state) {
        return cosine(centered(state), centroid) - threshold;
    }

    /** state less the center (the state itself without one). */
    public float[] centered(float[] state) {
        return centered(state, center);
    }

    /** state less center (the state itself where center is null). */
    public static float[] centered(float[] state, float[] center) {
        if (center == null) {
            return state;
        }
        float[] out = new float[state.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = state[i] - center[i];
        }
        return out;
    }

    public boolean holds(LanguageModel lm, int[] promptIds) {
        return holds(Activations.lastTokenResiduals(lm, promptIds)[layer]);
    }

    /**
     * Each condition's {@link #margin} for one prompt, from one forward pass: +∞ for a null entry
     * (no condition), −∞ for a layer the model lacks.
     */
    public static double[] margins(LanguageModel lm, int[] promptIds, List<Condition> conditions) {
        double[] out = new double[conditions.size()];
        float[][] states = conditions.stream().allMatch(java.util.Objects::isNull) ? null
                : Activations.lastTokenResiduals(lm, promptIds);
        for (int i = 0; i < out.length; i++) {
            Condition c = conditions.get(i);
            out[i] = c == null ? Double.POSITIVE_INFINITY
                    : c.layer < states.length ? c.margin(states[c.layer]) : Double.NEGATIVE_INFINITY;
        }
        return out;
    }

    public static double cosine(float[] a, float[] b) {
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
