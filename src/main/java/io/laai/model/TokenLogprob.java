package io.laai.model;

/**
 * A token's log-probability under the model, and the most likely tokens at its position with
 * theirs (as many as the request asked for, most likely first).
 */
public record TokenLogprob(int token, float logprob, int[] topTokens, float[] topLogprobs) {
}
