package io.laai.train;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.PromptScorer;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;

/**
 * Text a Δ should leave alone: generic prompts (src/main/resources/io/laai/train/anchor-prompts.txt,
 * not the ones eval measures side effects on) with the base model's greedy continuations, and the
 * base model's next-token distribution along each (its top {@link #TOP} tokens). Training adds
 * kl_weight × KL(base ‖ steered) over them to the loss, so a Δ changes what its task needs and as
 * little else as it can; each step takes {@link #PER_STEP} of them in turn. Computed once per model.
 */
public final class Anchors {

    /** Continuation tokens per anchor. */
    static final int TOKENS = 8;
    /** Tokens of the base distribution kept per position; the rest of its mass is left out of the KL. */
    static final int TOP = 32;

    /**
     * One anchor: the text as a demonstration, per continuation position the base model's top
     * tokens and probabilities, and its prompt's last-token state after each layer (what a
     * {@link Conditions condition} compares with).
     */
    record Anchor(Demonstration demo, int[][] ids, float[][] probs, float[][] promptStates) {
    }

    private static final Map<LanguageModel, List<Anchor>> CACHE = new WeakHashMap<>();

    private Anchors() {
    }

    /** Anchors in one training step: a few, in turn, so they cost a fraction of a step and all count over the fit. */
    static final int PER_STEP = 3;

    static synchronized List<Anchor> of(LanguageModel lm) {
        return CACHE.computeIfAbsent(lm, Anchors::compute);
    }

    /** The anchors of step {@code step} (1-based). */
    static List<Anchor> forStep(LanguageModel lm, int step) {
        List<Anchor> all = of(lm);
        List<Anchor> out = new ArrayList<>();
        for (int i = 0; i < Math.min(PER_STEP, all.size()); i++) {
            out.add(all.get(((step - 1) * PER_STEP + i) % all.size()));
        }
        return out;
    }

    private static List<Anchor> compute(LanguageModel lm) {
        List<String> prompts;
        try (InputStream in = Anchors.class.getResourceAsStream("anchor-prompts.txt")) {
            prompts = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Generator.Request> requests = new ArrayList<>();
        for (String p : prompts) {
            requests.add(new Generator.Request(p, SamplingParams.greedy(TOKENS).withIgnoreEos(true), Steering.NONE));
        }
        List<Generator.Result> results = new Generator(lm).generate(requests, null);
        List<Anchor> out = new ArrayList<>();
        int top = Math.min(TOP, lm.config().vocabSize());
        for (int i = 0; i < prompts.size(); i++) {
            Demonstration d = new Demonstration(prompts.get(i), results.get(i).text());
            int[][] parts = EncodedBatch.split(lm, d); // the tokens training will see, seam and all
            float[][] rows = PromptScorer.continuation(lm, parts[0], parts[1], Steering.NONE);
            int[][] ids = new int[rows.length][];
            float[][] probs = new float[rows.length][];
            for (int k = 0; k < rows.length; k++) {
                ids[k] = topTokens(rows[k], top);
                probs[k] = new float[top];
                for (int j = 0; j < top; j++) {
                    probs[k][j] = (float) Math.exp(rows[k][ids[k][j]]);
                }
            }
            out.add(new Anchor(d, ids, probs, io.laai.model.Activations.lastTokenResiduals(lm, d.promptTokens(lm))));
        }
        return List.copyOf(out);
    }

    private static int[] topTokens(float[] logProbs, int k) {
        int[] best = new int[k];
        java.util.Arrays.fill(best, -1);
        for (int v = 0; v < logProbs.length; v++) {
            int at = k;
            while (at > 0 && (best[at - 1] < 0 || logProbs[v] > logProbs[best[at - 1]])) {
                at--;
            }
            if (at < k) {
                System.arraycopy(best, at, best, at + 1, k - at - 1);
                best[at] = v;
            }
        }
        return best;
    }
}
