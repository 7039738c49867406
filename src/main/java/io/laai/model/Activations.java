package io.laai.model;

/** Reads activations through the model's engine, for baselines, probes and conditions. */
public final class Activations {
    private Activations() {
    }

    /** Each layer's output hidden state at the last token of ids: (L, D). */
    public static float[][] lastTokenResiduals(LanguageModel lm, int[] ids) {
        return lm.engine().lastTokenResiduals(ids);
    }
}
