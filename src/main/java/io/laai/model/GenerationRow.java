package io.laai.model;

import java.util.ArrayList;
import java.util.List;

/** A row's progress through generation: its tokens, stop conditions and the text it has emitted. */
final class GenerationRow {
    final Generator.Request request;
    final int[] prompt;
    final int limit;
    final Sampler sampler;
    final List<Integer> generated = new ArrayList<>();
    boolean done;
    String finishReason = "length";
    String stopText;
    int emitted;

    /** The prompt's token ids; GPT-2 adds no BOS, so an empty prompt starts from its <|endoftext|>. */
    static int[] promptIds(LanguageModel model, String prompt) {
        int[] ids = model.tokenizer().encode(prompt, true);
        return ids.length == 0 ? new int[] {model.config().bosTokenId()} : ids;
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
    }

    void accept(int token, LanguageModel model, Generator.Listener listener, int index) {
        ModelConfig c = model.config();
        boolean end = !request.params().ignoreEos() && (c.eosTokenIds().contains(token)
                || (c.family() == ModelConfig.Family.LLAMA && token == c.bosTokenId()));
        if (end) {
            done = true;
            finishReason = "stop";
        } else {
            generated.add(token);
            done = generated.size() >= limit;
        }
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

    String text(LanguageModel model) {
        return stopText != null ? stopText : model.tokenizer().continuation(prompt, ids());
    }
}
