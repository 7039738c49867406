package io.laai.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;


/**
 * Generates continuations for a batch of prompts in lock-step: one left-padded prefill, then one
 * decode step per token over a preallocated KV cache, each row with its own sampling and steering.
 * The cache and the stacked Δ belong to the call and close before it returns.
 */
public final class Generator {

    /**
     * One row: the prompt (text, or token ids when {@code tokens} is not null), how to sample, and
     * the intervention to apply (Steering.NONE for none).
     */
    public record Request(String prompt, int[] tokens, SamplingParams params, Steering steering) {
        public Request(String prompt, SamplingParams params, Steering steering) {
            this(prompt, null, params, steering);
        }
    }

    /**
     * finishReason: "stop" (end of text or a stop string) or "length" (max tokens or the context).
     * tokens are the generated ids; logprobs has one entry per generated token when the request
     * asked for them (SamplingParams.logprobs >= 0), else it is empty. conditionsUnmet names the
     * conditional interventions whose condition did not hold for the prompt (their Δ was left out).
     */
    public record Result(String text, String finishReason, int promptTokens, int completionTokens, int[] tokens,
            java.util.List<TokenLogprob> logprobs, java.util.Set<String> conditionsUnmet) {
    }

    /** Receives text as it is generated, per row; never called with a partial UTF-8 character. */
    public interface Listener {
        void onText(int row, String delta);
    }

    /** Prompt tokens per prefill forward pass (all rows together): bounds a long prompt's working memory. */
    static final int PREFILL_CHUNK = 256;

    private final LanguageModel model;

    public Generator(LanguageModel model) {
        this.model = model;
    }

    public Result generate(Request request) {
        return generate(List.of(request), null).get(0);
    }

    public List<Result> generate(List<Request> requests, Listener listener) {
        ModelConfig c = model.config();
        int b = requests.size();
        GenerationRow[] rows = new GenerationRow[b];
        int t0 = 0;
        int longest = 0;
        for (int i = 0; i < b; i++) {
            int[] ids = GenerationRow.promptIds(model, requests.get(i));
            rows[i] = new GenerationRow(GenerationRow.resolved(model, requests.get(i), ids), ids, c.maxPositionEmbeddings(),
                    "the model's context");
            t0 = Math.max(t0, rows[i].prompt.length);
            longest = Math.max(longest, rows[i].limit);
        }
        int capacity = t0 + longest;
        Engine engine = model.engine();
        try (Engine.Cache cache = engine.cache(b, capacity);
                Engine.Deltas deltas = engine.deltas(Arrays.stream(rows).map(r -> r.request.steering()).toList())) {
            GenerationRow.Prefill prefill = GenerationRow.Prefill.of(Arrays.asList(rows), capacity);
            boolean[][] valid = prefill.valid();
            int[] next = GenerationRow.prefill(engine, cache, deltas, rows, prefill, PREFILL_CHUNK);
            for (int k = 0; ; k++) {
                boolean active = false;
                for (int i = 0; i < b; i++) {
                    if (!rows[i].done) {
                        rows[i].accept(next[i], model, listener, i);
                        active |= !rows[i].done;
                    }
                }
                if (!active) {
                    break;
                }
                long[] stepIds = new long[b];
                long[] stepPos = new long[b];
                for (int i = 0; i < b; i++) {
                    stepIds[i] = next[i];
                    stepPos[i] = rows[i].prompt.length + k;
                    valid[i][t0 + k] = true;
                }
                float[] bias = attentionBias(valid, 1, t0 + k, t0 + k + 1);
                Engine.Logits logits = engine.forward(new Engine.Batch(b, 1, stepIds, stepPos, bias,
                        GenerationRow.spanMask(rows)), cache, deltas, GenerationRow.output(rows));
                next = GenerationRow.nextTokens(logits, rows, c.vocabSize());
            }
        }
        List<Result> results = new ArrayList<>(b);
        for (GenerationRow row : rows) {
            results.add(row.result(model));
        }
        return results;
    }

    /**
     * (B, 1, T, L) additive mask for queries at cache slots [from, from + T): a query sees valid keys
     * up to and including its own slot.
     */
    public static float[] attentionBias(boolean[][] valid, int t, int from, int l) {
        int b = valid.length;
        float[] bias = new float[b * t * l];
        for (int i = 0; i < b; i++) {
            for (int q = 0; q < t; q++) {
                int base = (i * t + q) * l;
                for (int k = 0; k < l; k++) {
                    bias[base + k] = valid[i][k] && k <= from + q ? 0f : Transformer.MASKED;
                }
            }
        }
        return bias;
    }
}
