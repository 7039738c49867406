package io.laai.model;

/**
 * One batch row's intervention as the runtime sees it: per layer, a vector already multiplied by
 * its scale, at the attention-head outputs (H·d) and/or the residual stream (D), and the position
 * rule. {@link #NONE} leaves the row unmodified.
 */
public interface Steering {

    /** Vector of length H·d added before o_proj at this layer, or null. */
    float[] attnHeads(int layer);

    /** Vector of length D added to this layer's output hidden state, or null. */
    float[] residual(int layer);

    /** true: every position; false: only positions that predict the next token ("last"). */
    boolean allPositions();

    /**
     * Steering that depends on the prompt (interventions with a condition). Generation resolves it
     * once per request from the prompt's tokens; used unresolved, it is every member's Δ.
     */
    interface Conditional extends Steering {
        Steering resolve(LanguageModel model, int[] promptIds);
    }

    /** The steering for this prompt: a conditional one resolved, any other as it is. */
    static Steering forPrompt(Steering s, LanguageModel model, int[] promptIds) {
        return s instanceof Conditional c ? c.resolve(model, promptIds) : s;
    }

    Steering NONE = new Steering() {
        @Override
        public float[] attnHeads(int layer) {
            return null;
        }

        @Override
        public float[] residual(int layer) {
            return null;
        }

        @Override
        public boolean allPositions() {
            return false;
        }
    };
}
