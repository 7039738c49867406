package io.laai.train;

import java.util.List;

import io.laai.intervention.Condition;
import io.laai.model.Activations;
import io.laai.model.LanguageModel;

/**
 * A task's {@link Condition} from its training demonstrations: at the middle layer, the mean of
 * their prompts' last-token states, and a threshold halfway between the least similar training
 * prompt and the most similar anchor text (which stands for prompts the task does not mean).
 */
final class Conditions {

    private Conditions() {
    }

    static Condition fit(LanguageModel lm, List<Demonstration> train) {
        int layer = lm.config().numHiddenLayers() / 2;
        int d = lm.config().hiddenSize();
        float[] centroid = new float[d];
        List<float[]> states = train.stream().map(t -> Activations.lastTokenResiduals(lm, t.promptTokens(lm))[layer])
                .toList();
        for (float[] s : states) {
            for (int j = 0; j < d; j++) {
                centroid[j] += s[j] / states.size();
            }
        }
        double weakestTask = states.stream().mapToDouble(s -> Condition.cosine(s, centroid)).min().orElse(1);
        double strongestOther = Anchors.of(lm).stream().mapToDouble(a -> Condition.cosine(
                Activations.lastTokenResiduals(lm, a.demo().promptTokens(lm))[layer], centroid)).max().orElse(-1);
        return new Condition(layer, centroid, (weakestTask + strongestOther) / 2);
    }
}
