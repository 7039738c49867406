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

    /** Generated tokens whose prediction receives Δ (Integer.MAX_VALUE: all). */
    default int span() {
        return Integer.MAX_VALUE;
    }

    /**
     * Steering that depends on the prompt (interventions with a condition). Generation resolves it
     * once per request from the prompt's tokens; used unresolved, it is every member's Δ.
     */
    interface Conditional extends Steering {
        Steering resolve(LanguageModel model, int[] promptIds);
    }

    /**
     * For a conditional steering resolved for one prompt: the names (task ids) of the members whose
     * condition did not hold there, so their Δ was left out. Empty for every other steering.
     */
    default java.util.Set<String> conditionsUnmet() {
        return java.util.Set.of();
    }

    /** The same steering, naming the members a prompt's conditions left out. */
    static Steering leavingOut(Steering s, java.util.Set<String> unmet) {
        if (unmet.isEmpty()) {
            return s;
        }
        java.util.Set<String> names = java.util.Set.copyOf(unmet);
        return new Steering() {
            @Override
            public float[] attnHeads(int layer) {
                return s.attnHeads(layer);
            }

            @Override
            public float[] residual(int layer) {
                return s.residual(layer);
            }

            @Override
            public boolean allPositions() {
                return s.allPositions();
            }

            @Override
            public int span() {
                return s.span();
            }

            @Override
            public java.util.Set<String> conditionsUnmet() {
                return names;
            }
        };
    }

    /** The steering for this prompt: a conditional one resolved, any other as it is. */
    static Steering forPrompt(Steering s, LanguageModel model, int[] promptIds) {
        return s instanceof Conditional c ? c.resolve(model, promptIds) : s;
    }

    /**
     * The rows' Δ at one layer and site, row after row (rows × width), zeros for a row without
     * one; null when no row has one. Both engines build a batch's Δ from this.
     */
    static float[] stack(java.util.List<Steering> steering, int layer, int width, boolean heads) {
        float[] data = null;
        for (int i = 0; i < steering.size(); i++) {
            float[] v = heads ? steering.get(i).attnHeads(layer) : steering.get(i).residual(layer);
            if (v == null) {
                continue;
            }
            if (v.length != width) {
                throw new IllegalArgumentException("intervention vector for layer " + layer + " has " + v.length
                        + " values, the model needs " + width);
            }
            if (data == null) {
                data = new float[steering.size() * width];
            }
            System.arraycopy(v, 0, data, i * width, width);
        }
        return data;
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
