package io.laai.train;

/** One example of a task: the model should continue {@code prompt} with {@code completion}. */
public record Demonstration(String prompt, String completion) {

    public Demonstration {
        if (prompt == null) {
            throw new IllegalArgumentException("a demonstration has no prompt");
        }
        if (completion == null || completion.isEmpty()) {
            throw new IllegalArgumentException("a demonstration has an empty completion (prompt: '" + abbreviate(prompt) + "')");
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
