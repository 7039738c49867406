package io.laai.model;

import ai.djl.ndarray.NDArray;

/**
 * Additive interventions for one forward pass. Each returns, for a layer, a tensor broadcastable
 * to the activation it is added to — [B, T, H·d] at the concatenated attention-head outputs
 * (before o_proj / c_proj) or [B, T, D] at the layer's output hidden state — or null for none.
 * Position rules and per-row vectors are already folded into these tensors by the caller.
 */
public interface Hooks {

    NDArray attnHeads(int layer);

    NDArray residual(int layer);

    /** Sees layer's output hidden state (B, T, D) after any residual intervention; for probes and baselines. */
    default void observeResidual(int layer, NDArray hidden) {
    }
}
