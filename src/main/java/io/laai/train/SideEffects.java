package io.laai.train;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.PromptScorer;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;

/**
 * What an intervention does to text it was not meant for. On unrelated prompts, the base model's
 * own greedy continuation is scored under the steered model: the mean per-token KL divergence
 * KL(steered ‖ base) of the next-token distributions along it and the increase of its NLL; the
 * steered model's own greedy continuation is scored under the base model (how natural the
 * steered text is); and the share of prompts whose greedy continuation is unchanged.
 *
 * @param kl          mean per-token KL(steered ‖ base), nats, along the base continuations
 * @param nllIncrease mean per-token NLL of the base continuations, steered minus base, nats
 * @param steeredNll  mean per-token NLL of the steered continuations under the base model, nats
 * @param baseNll     the same for the base model's own continuations (the reference for steeredNll)
 * @param unchanged   share of prompts whose greedy continuation is the base model's
 */
public record SideEffects(double kl, double nllIncrease, double steeredNll, double baseNll, double unchanged) {

    /** Tokens of each continuation measured. */
    public static final int TOKENS = 16;

    /** The generic prompts eval uses unless given others (src/main/resources/io/laai/train/unrelated-prompts.txt). */
    public static List<String> defaultPrompts() {
        try (InputStream in = SideEffects.class.getResourceAsStream("unrelated-prompts.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The base model's greedy continuations of the prompts, computed once and shared by every measurement. */
    public record Reference(List<String> texts, List<int[]> prompts, List<int[]> continuations, List<float[][]> logProbs,
            double nll) {

        public static Reference of(LanguageModel lm, List<String> prompts) {
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException("no unrelated prompts to measure side effects on");
            }
            List<int[]> ids = prompts.stream().map(lm::encodePrompt).toList();
            List<int[]> continuations = greedy(lm, ids, ids.stream().map(p -> Steering.NONE).toList());
            List<float[][]> logProbs = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                logProbs.add(PromptScorer.continuation(lm, ids.get(i), continuations.get(i), Steering.NONE));
            }
            return new Reference(List.copyOf(prompts), ids, continuations, logProbs, SideEffects.nll(logProbs, continuations));
        }
    }

    /** The side effects of {@code steering} (the base model with it). */
    public static SideEffects measure(LanguageModel lm, Reference ref, Steering steering) {
        return measure(lm, ref, ref.prompts().stream().map(p -> steering).toList(), ref.prompts());
    }

    /** The side effects of steering chosen per prompt (by its token ids), as a conditional intervention does. */
    public static SideEffects measure(LanguageModel lm, Reference ref, java.util.function.Function<int[], Steering> perPrompt) {
        return measure(lm, ref, ref.prompts().stream().map(perPrompt).toList(), ref.prompts());
    }

    /** The side effects of showing {@code prefix} before every prompt (few-shot's demonstrations). */
    public static SideEffects measure(LanguageModel lm, Reference ref, String prefix) {
        return measure(lm, ref, ref.prompts().stream().map(p -> Steering.NONE).toList(),
                ref.texts().stream().map(t -> lm.encodePrompt(prefix + t)).toList());
    }

    private static SideEffects measure(LanguageModel lm, Reference ref, List<Steering> steering, List<int[]> prompts) {
        double kl = 0;
        double increase = 0;
        int tokens = 0;
        // Resolved once per prompt: a condition that turns the Δ off leaves the base model's own rows.
        List<Steering> resolved = new ArrayList<>();
        for (int i = 0; i < ref.prompts().size(); i++) {
            int[] prompt = prompts.get(i);
            int[] cont = ref.continuations().get(i);
            float[][] base = ref.logProbs().get(i);
            Steering s = Steering.forPrompt(steering.get(i), lm, prompt);
            resolved.add(s);
            float[][] steered = s == Steering.NONE && prompt == ref.prompts().get(i) ? base
                    : PromptScorer.continuation(lm, prompt, cont, s);
            for (int k = 0; k < cont.length; k++) {
                for (int v = 0; v < base[k].length; v++) {
                    double ps = Math.exp(steered[k][v]);
                    kl += ps * (steered[k][v] - base[k][v]);
                }
                increase += base[k][cont[k]] - steered[k][cont[k]];
                tokens++;
            }
        }
        List<int[]> own = greedy(lm, prompts, resolved);
        int same = 0;
        List<float[][]> ownRows = new ArrayList<>();
        for (int i = 0; i < own.size(); i++) {
            boolean unchanged = Arrays.equals(own.get(i), ref.continuations().get(i));
            same += unchanged ? 1 : 0;
            // The steered text as the base model reads it, after the unsteered prompt.
            ownRows.add(unchanged ? ref.logProbs().get(i)
                    : PromptScorer.continuation(lm, ref.prompts().get(i), own.get(i), Steering.NONE));
        }
        return new SideEffects(tokens == 0 ? 0 : kl / tokens, tokens == 0 ? 0 : increase / tokens, nll(ownRows, own),
                ref.nll(), (double) same / own.size());
    }

    /** As JSON fields. */
    public java.util.Map<String, Double> asMap() {
        java.util.Map<String, Double> m = new java.util.LinkedHashMap<>();
        m.put("kl", kl);
        m.put("nll_increase", nllIncrease);
        m.put("steered_nll", steeredNll);
        m.put("base_nll", baseNll);
        m.put("unchanged", unchanged);
        return m;
    }

    private static List<int[]> greedy(LanguageModel lm, List<int[]> prompts, List<Steering> steering) {
        List<Generator.Request> requests = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            requests.add(new Generator.Request("", prompts.get(i), SamplingParams.greedy(TOKENS), steering.get(i)));
        }
        return new Generator(lm).generate(requests, null).stream().map(Generator.Result::tokens).toList();
    }

    /** Mean per-token NLL of the continuations, from the base model's rows before each of their tokens. */
    private static double nll(List<float[][]> rows, List<int[]> continuations) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < rows.size(); i++) {
            int[] cont = continuations.get(i);
            for (int k = 0; k < cont.length; k++) {
                sum -= rows.get(i)[k][cont[k]];
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
    }
}
