package io.laai.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The log-probability the model gives each prompt token after the ones before it (OpenAI's
 * {@code echo} with {@code logprobs}, which lm-eval-harness uses to score continuations), with the
 * request's intervention applied where generation applies it. It runs the prefill's chunks with
 * every position's logits kept, over a cache of its own that closes before it returns.
 */
public final class PromptScorer {

    private PromptScorer() {
    }

    /** One entry per prompt token; the first is null, since nothing precedes it. */
    public static List<TokenLogprob> score(LanguageModel model, Generator.Request request, int top, int chunkTokens) {
        ModelConfig c = model.config();
        int[] ids = GenerationRow.promptIds(model, request);
        if (ids.length > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("the prompt is " + ids.length + " tokens; the model's context is "
                    + c.maxPositionEmbeddings());
        }
        RowDeltas.check(c, request.steering());
        request = GenerationRow.resolved(model, request, ids);
        GenerationRow row = new GenerationRow(request, ids, Integer.MAX_VALUE, "");
        GenerationRow.Prefill p = GenerationRow.Prefill.of(List.of(row), ids.length);
        int vocab = c.vocabSize();
        List<TokenLogprob> out = new ArrayList<>(ids.length);
        out.add(null);
        Engine engine = model.engine();
        try (Engine.Cache cache = engine.cache(1, ids.length); Engine.Deltas deltas = engine.deltas(List.of(request.steering()))) {
            for (int from = 0; from < ids.length; from += chunkTokens) {
                int to = Math.min(ids.length, from + chunkTokens);
                int n = to - from;
                long[] chunkIds = java.util.Arrays.copyOfRange(p.ids(), from, to);
                long[] pos = java.util.Arrays.copyOfRange(p.positions(), from, to);
                float[] mask = java.util.Arrays.copyOfRange(p.mask(), from, to);
                float[] bias = Generator.attentionBias(p.valid(), n, from, to);
                float[] logits = engine.forward(new Engine.Batch(1, n, chunkIds, pos, bias, mask), cache, deltas,
                        Engine.Output.ALL).values();
                for (int j = 0; j < n && from + j + 1 < ids.length; j++) {
                    out.add(Sampler.logprobs(logits, j * vocab, vocab, ids[from + j + 1], top));
                }
            }
        }
        return out;
    }

    /**
     * The log-probabilities over the vocabulary (V per row) before each continuation token, with
     * the continuation forced after the prompt: what generation under {@code steering} would give
     * at each step had it produced that continuation (Δ at the prompt's last token and every later
     * one, or at every token for the "all" rule, up to the steering's span), in one forward pass.
     */
    public static float[][] continuation(LanguageModel model, int[] prompt, int[] continuation, Steering steering) {
        ModelConfig c = model.config();
        int t = prompt.length + continuation.length;
        if (prompt.length == 0 || t > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("prompt and continuation are " + t + " tokens; the model's context is "
                    + c.maxPositionEmbeddings() + " and the prompt needs one");
        }
        RowDeltas.check(c, steering);
        steering = Steering.forPrompt(steering, model, prompt);
        long[] ids = new long[t];
        long[] pos = new long[t];
        float[] mask = new float[t];
        for (int j = 0; j < t; j++) {
            ids[j] = j < prompt.length ? prompt[j] : continuation[j - prompt.length];
            pos[j] = j;
            // Positions from the prompt's last on predict continuation tokens; past the span, the base model's.
            boolean predicting = j >= prompt.length - 1;
            mask[j] = (steering.allPositions() || predicting) && j < prompt.length - 1 + (long) steering.span() ? 1f : 0f;
        }
        boolean[][] valid = new boolean[1][t];
        java.util.Arrays.fill(valid[0], true);
        int vocab = c.vocabSize();
        float[][] out = new float[continuation.length][];
        Engine engine = model.engine();
        try (Engine.Deltas deltas = engine.deltas(List.of(steering))) {
            // One pass over every token: nothing is decoded after it, so no KV cache.
            float[] all = engine.forward(new Engine.Batch(1, t, ids, pos, Generator.attentionBias(valid, t, 0, t), mask), null,
                    deltas, Engine.Output.ALL).values();
            for (int k = 0; k < continuation.length; k++) {
                int at = (prompt.length - 1 + k) * vocab;
                out[k] = Sampler.logSoftmax(all, at, vocab);
            }
        }
        return out;
    }

    /** The prompt's token ids as the generator would see them. */
    public static int[] promptIds(LanguageModel model, Generator.Request request) {
        return GenerationRow.promptIds(model, request);
    }
}
