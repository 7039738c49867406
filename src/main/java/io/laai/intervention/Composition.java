package io.laai.intervention;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.laai.model.Steering;

/**
 * The task calculus: Σ wᵢ·Δᵢ over interventions of one model (of those with a condition, the one
 * whose condition holds best), as one row's steering.
 */
public final class Composition {

    private Composition() {
    }

    /**
     * The weighted sum; where a member has a condition, a {@link Steering.Conditional} that keeps,
     * for each prompt, the members without a condition and, of those with one, the member whose
     * condition holds there by the widest margin (one forward pass decides all).
     */
    public static Steering of(Map<Intervention, Double> weighted) {
        Steering all = sum(weighted);
        if (weighted.keySet().stream().allMatch(iv -> iv.condition() == null)) {
            return all;
        }
        List<Intervention> members = List.copyOf(weighted.keySet());
        List<Condition> conditions = members.stream().map(Intervention::condition).toList();
        return new Steering.Conditional() {
            @Override
            public Steering resolve(io.laai.model.LanguageModel model, int[] promptIds) {
                double[] margin = Condition.margins(model, promptIds, conditions);
                // Of the conditional members that hold, only the one the prompt resembles most: tasks
                // whose prompts look alike would otherwise add their Δs on each other's prompts.
                int closest = -1;
                for (int i = 0; i < margin.length; i++) {
                    if (conditions.get(i) != null && margin[i] >= 0 && (closest < 0 || margin[i] > margin[closest])) {
                        closest = i;
                    }
                }
                Map<Intervention, Double> on = new LinkedHashMap<>();
                java.util.Set<String> unmet = new java.util.TreeSet<>();
                for (int i = 0; i < margin.length; i++) {
                    if (conditions.get(i) == null || i == closest) {
                        on.put(members.get(i), weighted.get(members.get(i)));
                    } else {
                        unmet.add(members.get(i).task());
                    }
                }
                return Steering.leavingOut(on.isEmpty() ? Steering.NONE : sum(on), unmet);
            }

            @Override
            public float[] attnHeads(int layer) {
                return all.attnHeads(layer);
            }

            @Override
            public float[] residual(int layer) {
                return all.residual(layer);
            }

            @Override
            public boolean allPositions() {
                return all.allPositions();
            }

            @Override
            public int span() {
                return all.span();
            }
        };
    }

    private static Steering sum(Map<Intervention, Double> weighted) {
        Map<Integer, float[]> heads = new HashMap<>();
        Map<Integer, float[]> residual = new HashMap<>();
        Positions positions = null;
        String fingerprint = null;
        for (Map.Entry<Intervention, Double> e : weighted.entrySet()) {
            Intervention iv = e.getKey();
            if (positions != null && positions != iv.positions()) {
                throw new IllegalArgumentException("cannot compose interventions with different position rules ("
                        + positions.id() + " and " + iv.positions().id() + " for task " + iv.task() + ")");
            }
            if (fingerprint != null && !fingerprint.equals(iv.modelFingerprint())) {
                throw new IllegalArgumentException("cannot compose interventions made for different models (task "
                        + iv.task() + ")");
            }
            positions = iv.positions();
            fingerprint = iv.modelFingerprint();
            Map<Integer, float[]> target = iv.site() == Site.ATTN_HEADS ? heads : residual;
            float w = e.getValue().floatValue();
            iv.deltas().forEach((layer, delta) -> {
                float[] sum = target.computeIfAbsent(layer, l -> new float[delta.length]);
                for (int i = 0; i < delta.length; i++) {
                    sum[i] += w * delta[i];
                }
            });
        }
        boolean all = positions == Positions.ALL;
        // A row has one Δ per layer, so a sum steers as long as its longest member does.
        int span = weighted.keySet().stream().mapToInt(Intervention::span).max().orElse(Integer.MAX_VALUE);
        return new Steering() {
            @Override
            public int span() {
                return span;
            }

            @Override
            public float[] attnHeads(int layer) {
                return heads.get(layer);
            }

            @Override
            public float[] residual(int layer) {
                return residual.get(layer);
            }

            @Override
            public boolean allPositions() {
                return all;
            }
        };
    }
}
