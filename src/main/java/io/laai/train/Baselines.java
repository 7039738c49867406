package io.laai.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.laai.intervention.Composition;
import io.laai.intervention.Intervention;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;
import io.laai.model.Activations;
import io.laai.model.LanguageModel;
import io.laai.model.ModelConfig;
import io.laai.model.Steering;

/** The methods LAAI is compared with in {@code eval}. */
public final class Baselines {

    /** Mean-diff scales searched on the train pairs, with the layer. */
    static final double[] MEAN_DIFF_SCALES = {0.5, 1, 2, 4, 8};

    private Baselines() {
    }

    /** Train pairs in the prompt, one per line, before the test prompt. */
    public static String fewShotPrefix(List<Demonstration> train) {
        StringBuilder sb = new StringBuilder();
        for (Demonstration d : train) {
            sb.append(d.prompt()).append(d.completion()).append('\n');
        }
        return sb.toString();
    }

    /**
     * The train pairs shown before each test item: as lines of text before a text prompt, as
     * earlier turns of the conversation before a chat item (its own system message first).
     */
    public static double fewShot(LanguageModel lm, List<Demonstration> train, List<Demonstration> test) {
        if (test.stream().noneMatch(Demonstration::isChat)) {
            List<Demonstration> text = Demonstration.rendered(lm, train);
            return Evaluator.accuracy(lm, test.stream().map(d -> Steering.NONE).toList(), test, fewShotPrefix(text));
        }
        List<Map<String, Object>> turns = new ArrayList<>();
        for (Demonstration d : train) {
            if (d.isChat()) {
                d.messages().stream().filter(m -> !"system".equals(m.get("role"))).forEach(turns::add);
            } else {
                turns.add(Map.of("role", "user", "content", d.prompt()));
            }
            turns.add(Map.of("role", "assistant", "content", d.completion()));
        }
        List<Demonstration> shown = new ArrayList<>();
        for (Demonstration d : test) {
            List<Map<String, Object>> messages = new ArrayList<>();
            List<Map<String, Object>> own = d.isChat() ? d.messages() : List.of(Map.of("role", "user", "content", d.prompt()));
            own.stream().filter(m -> "system".equals(m.get("role"))).forEach(messages::add);
            messages.addAll(turns);
            own.stream().filter(m -> !"system".equals(m.get("role"))).forEach(messages::add);
            shown.add(Demonstration.chat(messages, d.completion()));
        }
        return Evaluator.accuracy(lm, shown.stream().map(d -> Steering.NONE).toList(), shown, "");
    }

    /**
     * The classic steering vector: at each layer, the mean over train pairs of the last-token
     * residual of prompt+completion minus that of the prompt alone; the layer and scale that do
     * best on the train pairs are kept.
     */
    public static Intervention meanDiff(LanguageModel lm, List<Demonstration> train) {
        ModelConfig c = lm.config();
        float[][] sum = new float[c.numHiddenLayers()][c.hiddenSize()];
        for (Demonstration d : train) {
            float[][] with = Activations.lastTokenResiduals(lm, d.fullTokens(lm));
            float[][] without = Activations.lastTokenResiduals(lm, d.promptTokens(lm));
            for (int l = 0; l < sum.length; l++) {
                for (int j = 0; j < sum[l].length; j++) {
                    sum[l][j] += (with[l][j] - without[l][j]) / train.size();
                }
            }
        }
        Intervention best = null;
        double bestAccuracy = -1;
        for (int l = 0; l < sum.length; l++) {
            for (double scale : MEAN_DIFF_SCALES) {
                float[] v = new float[c.hiddenSize()];
                for (int j = 0; j < v.length; j++) {
                    v[j] = (float) (sum[l][j] * scale);
                }
                TreeMap<Integer, float[]> deltas = new TreeMap<>(Map.of(l, v));
                Intervention candidate = new Intervention("mean-diff", 0, Site.RESIDUAL, Positions.LAST, deltas,
                        lm.fingerprint(), c.hiddenSize(), c.numAttentionHeads(), c.headDim(),
                        Map.of("mean_diff_scale", Double.toString(scale)));
                double accuracy = Evaluator.accuracy(lm, Composition.of(Map.of(candidate, 1.0)), train);
                if (accuracy > bestAccuracy) {
                    bestAccuracy = accuracy;
                    best = candidate;
                }
            }
        }
        return best;
    }
}
