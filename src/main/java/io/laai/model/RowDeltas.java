package io.laai.model;

import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The batch's steering vectors stacked per layer and site, (B, 1, width) with zero rows for rows
 * without one, made once per request in its manager. At prefill they are multiplied by the
 * position mask; at decode every row's single position predicts the next token, so they apply as is.
 */
final class RowDeltas {

    private final NDArray[] attnHeads; // per layer (B, 1, H·d) or null
    private final NDArray[] residual;  // per layer (B, 1, D) or null

    private RowDeltas(NDArray[] attnHeads, NDArray[] residual) {
        this.attnHeads = attnHeads;
        this.residual = residual;
    }

    static RowDeltas of(NDManager manager, ModelConfig c, List<Steering> steering) {
        int layers = c.numHiddenLayers();
        NDArray[] heads = new NDArray[layers];
        NDArray[] resid = new NDArray[layers];
        int headWidth = c.numAttentionHeads() * c.headDim();
        for (int l = 0; l < layers; l++) {
            heads[l] = stack(manager, steering, l, headWidth, true);
            resid[l] = stack(manager, steering, l, c.hiddenSize(), false);
        }
        return new RowDeltas(heads, resid);
    }

    /** Refuses a row's steering whose vectors do not fit the model, before it joins a batch. */
    static void check(ModelConfig c, Steering steering) {
        int headWidth = c.numAttentionHeads() * c.headDim();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            float[] h = steering.attnHeads(l);
            float[] r = steering.residual(l);
            if ((h != null && h.length != headWidth) || (r != null && r.length != c.hiddenSize())) {
                throw new IllegalArgumentException("intervention vector for layer " + l + " does not fit the model");
            }
        }
    }

    private static NDArray stack(NDManager manager, List<Steering> steering, int layer, int width, boolean heads) {
        float[] data = Steering.stack(steering, layer, width, heads);
        return data == null ? null : manager.create(data, new Shape(steering.size(), 1, width));
    }

    /** Hooks for one step; mask (B, T, 1) places the vectors at prefill, null at decode. */
    Hooks hooks(NDArray mask) {
        return new Hooks() {
            @Override
            public NDArray attnHeads(int layer) {
                return place(attnHeads[layer]);
            }

            @Override
            public NDArray residual(int layer) {
                return place(residual[layer]);
            }

            private NDArray place(NDArray delta) {
                return delta == null || mask == null ? delta : mask.mul(delta);
            }
        };
    }
}
