package io.laai.train;

import java.util.List;
import java.util.Map;

import io.laai.chat.ChatTemplate;
import io.laai.model.LanguageModel;

/**
 * One example of a task: the model should continue {@code prompt} with {@code completion}. A
 * chat demonstration gives {@code messages} instead (the conversation before the assistant's
 * turn, whose reply is the completion); the model's chat template renders it into {@code prompt}
 * (see {@link #rendered}), which is then tokenized as a chat request is, without special tokens.
 */
public record Demonstration(String prompt, String completion, List<Map<String, Object>> messages) {

    public Demonstration {
        if (prompt == null && messages == null) {
            throw new IllegalArgumentException("a demonstration has no prompt");
        }
        if (completion == null || completion.isEmpty()) {
            throw new IllegalArgumentException("a demonstration has an empty completion (prompt: '"
                    + abbreviate(prompt == null ? messages.toString() : prompt) + "')");
        }
        messages = messages == null ? null : List.copyOf(messages);
    }

    public Demonstration(String prompt, String completion) {
        this(prompt, completion, null);
    }

    /** A chat demonstration, not yet rendered. */
    public static Demonstration chat(List<Map<String, Object>> messages, String completion) {
        return new Demonstration(null, completion, messages);
    }

    /** Whether the prompt is (or will be) a conversation rendered by the chat template. */
    public boolean isChat() {
        return messages != null;
    }

    /**
     * This demonstration with its conversation rendered by the model's chat template, with the
     * generation prompt, as a chat request is; a plain or already rendered one is itself.
     */
    public Demonstration rendered(LanguageModel lm) {
        if (prompt != null) {
            return this;
        }
        ChatTemplate template = lm.chat().orElseThrow(() -> new IllegalArgumentException("a demonstration gives messages,"
                + " but the model '" + lm.id() + "' has no chat template (set laai.chat-template, or --chat-template)"));
        try {
            return new Demonstration(template.render(messages, true), completion, messages);
        } catch (ChatTemplate.TemplateException e) {
            throw new IllegalArgumentException("the chat template refused a demonstration's messages: " + e.getMessage());
        }
    }

    /** Every demonstration rendered (see {@link #rendered}). */
    public static List<Demonstration> rendered(LanguageModel lm, List<Demonstration> demos) {
        return demos.stream().map(d -> d.rendered(lm)).toList();
    }

    /** The prompt's tokens as the model reads them: a rendered conversation without special tokens, text as a prompt. */
    public int[] promptTokens(LanguageModel lm) {
        return tokens(lm, rendered(lm).prompt);
    }

    /** The tokens of prompt + completion, encoded the same way as {@link #promptTokens}. */
    int[] fullTokens(LanguageModel lm) {
        return tokens(lm, rendered(lm).prompt + completion);
    }

    private int[] tokens(LanguageModel lm, String text) {
        return isChat() ? lm.encodeRendered(text) : lm.encodePrompt(text);
    }

    /** A short description for errors: the prompt, or the last message. */
    String describe() {
        if (prompt != null && !isChat()) {
            return abbreviate(prompt);
        }
        Object last = messages.get(messages.size() - 1).get("content");
        return "messages ending '" + abbreviate(String.valueOf(last)) + "'";
    }

    static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
