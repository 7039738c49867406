package io.laai.train;

import java.util.ArrayList;
import java.util.List;

import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;

/** Accuracy as README defines it: the greedy continuation of the prompt starts with the completion. */
public final class Evaluator {

    private Evaluator() {
    }

    public static double accuracy(LanguageModel lm, Steering steering, List<Demonstration> items) {
        return accuracy(lm, items.stream().map(d -> steering).toList(), items, "");
    }

    /** Per-item steering; prefix is prepended to every prompt (few-shot). */
    public static double accuracy(LanguageModel lm, List<Steering> steering, List<Demonstration> items, String prefix) {
        if (items.isEmpty()) {
            return Double.NaN;
        }
        int correct = 0;
        for (boolean c : correct(lm, steering, items, prefix)) {
            correct += c ? 1 : 0;
        }
        return (double) correct / items.size();
    }

    /** Whether each item's greedy continuation starts with its completion; all items in one batched generation. */
    static boolean[] correct(LanguageModel lm, List<Steering> steering, List<Demonstration> items, String prefix) {
        List<Generator.Request> requests = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Demonstration d = new Demonstration(prefix + items.get(i).rendered(lm).prompt(), items.get(i).completion(),
                    items.get(i).messages());
            int tokens = EncodedBatch.split(lm, d)[1].length;
            requests.add(new Generator.Request(d.prompt(), d.promptTokens(lm), SamplingParams.greedy(tokens + 1),
                    steering.get(i)));
        }
        List<Generator.Result> results = new Generator(lm).generate(requests, null);
        boolean[] correct = new boolean[items.size()];
        for (int i = 0; i < items.size(); i++) {
            correct[i] = results.get(i).text().startsWith(items.get(i).completion());
        }
        return correct;
    }
}
