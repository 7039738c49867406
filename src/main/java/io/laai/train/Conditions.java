package io.laai.train;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import io.laai.intervention.Condition;
import io.laai.model.Activations;
import io.laai.model.LanguageModel;

/**
 * A task's {@link Condition} from its training demonstrations: at the middle layer, the mean of
 * their prompts' last-token states, and a threshold halfway between the least similar training
 * prompt and the most similar anchor text (which stands for prompts the task does not mean).
 * One instance serves a training's folds and final fit, so each demonstration's state is
 * computed once.
 */
final class Conditions {

    private final LanguageModel lm;
    private final int layer;
    private final Map<Demonstration, float[]> states = new IdentityHashMap<>();

    Conditions(LanguageModel lm) {
        this.lm = lm;
        this.layer = lm.config().numHiddenLayers() / 2;
    }

    Condition fit(List<Demonstration> train) {
        int d = lm.config().hiddenSize();
        float[] centroid = new float[d];
        List<float[]> own = train.stream().map(this::state).toList();
        for (float[] s : own) {
            for (int j = 0; j < d; j++) {
                centroid[j] += s[j] / own.size();
            }
        }
        double weakestTask = own.stream().mapToDouble(s -> Condition.cosine(s, centroid)).min().orElse(1);
        double strongestOther = Anchors.of(lm).stream().mapToDouble(a -> Condition.cosine(a.promptStates()[layer], centroid))
                .max().orElse(-1);
        return new Condition(layer, centroid, (weakestTask + strongestOther) / 2);
    }

    private float[] state(Demonstration demo) {
        return states.computeIfAbsent(demo, x -> Activations.lastTokenResiduals(lm, x.promptTokens(lm))[layer]);
    }
}
