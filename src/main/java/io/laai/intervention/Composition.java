package io.laai.intervention;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.laai.model.Steering;

/** The task calculus: Σ wᵢ·Δᵢ over interventions of one model (those whose condition holds), as one row's steering. */
public final class Composition {

    private Composition() {
    }

    /**
     * The weighted sum; where a member has a condition, a {@link Steering.Conditional} that keeps,
     * for each prompt, only the members whose condition holds there (one forward pass decides all).
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
                boolean[] hold = Condition.holdAll(model, promptIds, conditions);
                Map<Intervention, Double> on = new LinkedHashMap<>();
                java.util.Set<String> unmet = new java.util.TreeSet<>();
                for (int i = 0; i < hold.length; i++) {
                    if (hold[i]) {
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
        return new Steering() {
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
