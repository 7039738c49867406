package io.laai.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;


/** A row's progress through generation: its tokens, stop conditions and the text it has emitted. */
final class GenerationRow {
    final Generator.Request request;
    final int[] prompt;
    final int limit;
    final Sampler sampler;
    final List<Integer> generated = new ArrayList<>();
    final List<TokenLogprob> logprobs = new ArrayList<>();
    final boolean plainGreedy;
    TokenLogprob pending; // the log-probabilities of the token accept() is about to take
    boolean done;
    String finishReason = "length";
    String stopText;
    int emitted;

    /**
     * The prompt's token ids (the request's own when it gave ids); GPT-2 adds no BOS, so an empty
     * prompt starts from its <|endoftext|>.
     */
    static int[] promptIds(LanguageModel model, Generator.Request request) {
        if (request.tokens() != null) {
            int vocab = model.config().vocabSize();
            for (int id : request.tokens()) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
                }
            }
        }
        int[] ids = request.tokens() != null ? request.tokens().clone() : model.encodePrompt(request.prompt());
        return ids.length == 0 ? new int[] {model.config().bosTokenId()} : ids;
    }

    /** The request with its steering resolved for its prompt (see {@link Steering.Conditional}). */
    static Generator.Request resolved(LanguageModel model, Generator.Request r, int[] promptIds) {
        Steering s = Steering.forPrompt(r.steering(), model, promptIds);
        return s == r.steering() ? r : new Generator.Request(r.prompt(), r.tokens(), r.params(), s);
    }

    /**
     * Prompts as one left-padded prefill batch of length t: ids, positions (padding counts none),
     * where Δ goes (the last prompt token, or every real token for the "all" rule), and which of the
     * first {@code width} slots are real tokens.
     */
    record Prefill(int t, long[] ids, long[] positions, float[] mask, boolean[][] valid) {
        static Prefill of(List<GenerationRow> rows, int width) {
            int b = rows.size();
            int t = rows.stream().mapToInt(r -> r.prompt.length).max().orElse(0);
            long[] ids = new long[b * t];
            long[] pos = new long[b * t];
            float[] mask = new float[b * t];
            boolean[][] valid = new boolean[b][width];
            for (int i = 0; i < b; i++) {
                GenerationRow row = rows.get(i);
                int pad = t - row.prompt.length;
                boolean allPositions = row.request.steering().allPositions();
                for (int j = 0; j < t; j++) {
                    boolean real = j >= pad;
                    valid[i][j] = real;
                    ids[i * t + j] = real ? row.prompt[j - pad] : 0;
                    pos[i * t + j] = real ? j - pad : 0;
                    mask[i * t + j] = real && (allPositions || j == t - 1) ? 1f : 0f;
                }
            }
            return new Prefill(t, ids, pos, mask, valid);
        }
    }

    /**
     * Runs a prefill batch through the model in chunks of at most {@code chunkTokens} tokens in all
     * (at least one column per chunk), writing keys and values into {@code cache} from column 0, and
     * returns each row's next token. Each chunk is its own forward pass and attends to the columns
     * written so far: working memory grows with chunk × prompt length, never with the prompt length
     * squared, and the result equals one pass over the whole prompt.
     */
    static int[] prefill(Engine engine, Engine.Cache cache, Engine.Deltas deltas, GenerationRow[] rows, Prefill p,
            int chunkTokens) {
        int b = rows.length;
        int t = p.t();
        int step = Math.max(1, chunkTokens / b);
        int[] next = null;
        for (int from = 0; from < t; from += step) {
            int to = Math.min(t, from + step);
            int n = to - from;
            long[] ids = new long[b * n];
            long[] pos = new long[b * n];
            float[] mask = new float[b * n];
            for (int i = 0; i < b; i++) {
                System.arraycopy(p.ids(), i * t + from, ids, i * n, n);
                System.arraycopy(p.positions(), i * t + from, pos, i * n, n);
                System.arraycopy(p.mask(), i * t + from, mask, i * n, n);
            }
            float[] bias = Generator.attentionBias(p.valid(), n, from, to);
            Engine.Output out = to == t ? output(rows) : Engine.Output.ARGMAX_LAST;
            Engine.Logits logits = engine.forward(new Engine.Batch(b, n, ids, pos, bias, mask), cache, deltas, out);
            if (to == t) {
                next = nextTokens(logits, rows, engine.config().vocabSize());
            }
        }
        return next;
    }

    /** The argmax alone when every row is greedy (computed where the logits are), else the logits. */
    static Engine.Output output(GenerationRow[] rows) {
        return Arrays.stream(rows).allMatch(r -> r == null || r.plainGreedy) ? Engine.Output.ARGMAX_LAST
                : Engine.Output.LAST;
    }

    /** Each row's next token from last-position logits (see {@link #output}). A null row (a free slot) gets 0. */
    static int[] nextTokens(Engine.Logits logits, GenerationRow[] rows, int vocab) {
        if (logits.argMax() != null) {
            return logits.argMax();
        }
        float[] all = logits.values();
        int[] next = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            GenerationRow r = rows[i];
            if (r == null || r.done) {
                continue;
            }
            next[i] = r.sampler.next(all, i * vocab, vocab);
            int top = r.request.params().logprobs();
            r.pending = top < 0 ? null : Sampler.logprobs(all, i * vocab, vocab, next[i], top);
        }
        return next;
    }

    /** context: the most token slots the row may use; contextName says where that limit comes from. */
    GenerationRow(Generator.Request request, int[] prompt, int context, String contextName) {
        this.request = request;
        this.prompt = prompt;
        if (prompt.length >= context) {
            throw new IllegalArgumentException("the prompt is " + prompt.length + " tokens; " + contextName + " is "
                    + context);
        }
        this.limit = Math.min(request.params().maxTokens(), context - prompt.length);
        this.sampler = new Sampler(request.params());
        this.plainGreedy = request.params().isPlainGreedy();
    }

    /**
     * A decode step's Δ mask (one value per row; null rows 0): each row's next prediction gets its
     * Δ while fewer tokens than its steering's span are out. Null where no row has a span, so the
     * usual path stays as it was.
     */
    static float[] spanMask(GenerationRow[] rows) {
        float[] mask = null;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] != null && rows[i].request.steering().span() != Integer.MAX_VALUE) {
                mask = new float[rows.length];
                break;
            }
        }
        if (mask != null) {
            for (int i = 0; i < rows.length; i++) {
                mask[i] = rows[i] != null && rows[i].generated.size() < rows[i].request.steering().span() ? 1f : 0f;
            }
        }
        return mask;
    }

    void accept(int token, LanguageModel model, Generator.Listener listener, int index) {
        ModelConfig c = model.config();
        boolean end = !request.params().ignoreEos() && (c.eosTokenIds().contains(token)
                || request.params().stopTokens().contains(token)
                || (c.family() == ModelConfig.Family.LLAMA && token == c.bosTokenId()));
        if (end) {
            done = true;
            finishReason = "stop";
        } else {
            generated.add(token);
            if (pending != null) {
                logprobs.add(pending);
            }
            done = generated.size() >= limit;
        }
        pending = null;
        List<String> stops = request.params().stop();
        if (stops.isEmpty() && listener == null) {
            return;
        }
        String text = model.tokenizer().continuation(prompt, ids());
        for (String s : stops) {
            int at = text.indexOf(s);
            if (at >= 0) {
                text = text.substring(0, at);
                stopText = text;
                done = true;
                finishReason = "stop";
            }
        }
        if (listener != null) {
            // Hold back a trailing replacement character: the rest of a multi-byte character may follow.
            int upTo = !done && text.endsWith("\uFFFD") ? text.length() - 1 : text.length();
            if (upTo > emitted) {
                listener.onText(index, text.substring(emitted, upTo));
                emitted = upTo;
            }
        }
    }

    int[] ids() {
        return generated.stream().mapToInt(Integer::intValue).toArray();
    }

    Generator.Result result(LanguageModel model) {
        return new Generator.Result(text(model), finishReason, prompt.length, generated.size(), ids(), List.copyOf(logprobs),
                request.steering().conditionsUnmet());
    }

    String text(LanguageModel model) {
        return stopText != null ? stopText : model.tokenizer().continuation(prompt, ids());
    }
}
