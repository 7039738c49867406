package io.laai.train;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import io.laai.intervention.Condition;
import io.laai.model.Activations;
import io.laai.model.LanguageModel;

/**
 * A task's {@link Condition} from its training demonstrations: at the middle layer, the mean of
 * their prompts' last-token states, both centered on the anchor texts' mean state (generic text,
 * which stands for prompts the task does not mean), and a threshold between the most similar
 * anchor (strictness 0) and the least similar training prompt (strictness 1).
 * One instance serves a training's folds and final fit, so each demonstration's state, and the
 * anchors' centered states, are computed once.
 */
final class Conditions {

    private final LanguageModel lm;
    private final int layer;
    private final Map<Demonstration, float[]> states = new IdentityHashMap<>();
    private float[] center;
    private List<float[]> anchors;

    Conditions(LanguageModel lm) {
        this.lm = lm;
        this.layer = lm.config().numHiddenLayers() / 2;
    }

    Condition fit(List<Demonstration> train, double strictness) {
        if (anchors == null) {
            // The same for every fold and task of this training: the anchors' states, centered on their mean.
            List<float[]> raw = Anchors.of(lm).stream().map(a -> a.promptStates()[layer]).toList();
            center = mean(raw);
            anchors = raw.stream().map(a -> Condition.centered(a, center)).toList();
        }
        List<float[]> own = train.stream().map(d -> Condition.centered(state(d), center)).toList();
        float[] centroid = mean(own);
        double weakestTask = own.stream().mapToDouble(s -> Condition.cosine(s, centroid)).min().orElse(1);
        double strongestOther = anchors.stream().mapToDouble(a -> Condition.cosine(a, centroid)).max().orElse(-1);
                return new Condition(layer, centroid, center, strongestOther + strictness * (weakestTask - strongestOther));
    }

    private static float[] mean(List<float[]> states) {
        float[] m = new float[states.get(0).length];
        for (float[] s : states) {
            for (int j = 0; j < m.length; j++) {
                m[j] += s[j] / states.size();
            }
        }
        return m;
    }

    private float[] state(Demonstration demo) {
        return states.computeIfAbsent(demo, x -> Activations.lastTokenResiduals(lm, x.promptTokens(lm))[layer]);
    }
}
