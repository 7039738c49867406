package io.laai.model;

import java.util.Arrays;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Reads activations through the forward pass's hooks, for baselines and probes. */
public final class Activations {
    private Activations() {
    }

    /** Each layer's output hidden state at the last token of ids: (L, D). */
    public static float[][] lastTokenResiduals(LanguageModel lm, int[] ids) {
        int t = ids.length;
        float[][] out = new float[lm.config().numHiddenLayers()][];
        boolean[][] valid = new boolean[1][t];
        Arrays.fill(valid[0], true);
        try (NDManager m = lm.transformer().manager().newSubManager(); NDScope scope = new NDScope()) {
            Hooks observe = new Hooks() {
                @Override
                public NDArray attnHeads(int layer) {
                    return null;
                }

                @Override
                public NDArray residual(int layer) {
                    return null;
                }

                @Override
                public void observeResidual(int layer, NDArray hidden) {
                    out[layer] = hidden.get(new NDIndex("0, -1, :")).toFloatArray();
                }
            };
            lm.transformer().forward(m.create(Arrays.stream(ids).asLongStream().toArray(), new Shape(1, t)),
                    m.arange(0, t, 1, DataType.INT64).reshape(1, t),
                    m.create(Generator.attentionBias(valid, t, 0, t), new Shape(1, 1, t, t)), null, observe, true);
        }
        return out;
    }
}
