package io.laai.train;

import java.util.List;

import io.laai.model.LanguageModel;

/**
 * Demonstrations as one left-padded, teacher-forced batch: token ids, positions, which positions
 * predict a completion token (and which token), all as Java arrays ready to become NDArrays.
 */
final class EncodedBatch {

    final int size;          // B
    final int length;        // T
    final long[] ids;        // (B, T)
    final long[] positions;  // (B, T)
    final boolean[][] valid; // (B, T) false on padding
    final long[] targets;    // (B, T) next token where predicted, else 0
    final float[] predicts;  // (B, T) 1 where the position predicts a completion token
    final int[] completionTokens; // per row

    private EncodedBatch(int size, int length, int[] completionTokens) {
        this.size = size;
        this.length = length;
        this.ids = new long[size * length];
        this.positions = new long[size * length];
        this.valid = new boolean[size][length];
        this.targets = new long[size * length];
        this.predicts = new float[size * length];
        this.completionTokens = completionTokens;
    }

    /**
     * Tokens of prompt + completion; the completion is what follows the prompt's own tokenization.
     * A chat demonstration is rendered by the model's chat template first (see {@link Demonstration#rendered}).
     */
    static int[][] split(LanguageModel lm, Demonstration d) {
        int context = lm.config().maxPositionEmbeddings();
        int[] full = d.fullTokens(lm);
        int[] prompt = d.promptTokens(lm);
        int k = 0;
        while (k < prompt.length && k < full.length && prompt[k] == full[k]) {
            k++;
        }
        // Tokenizers may merge across the seam; the shared prefix is the prompt then.
        k = Math.max(1, Math.min(k, full.length - 1));
        if (full.length > context) {
            throw new IllegalArgumentException("the demonstration '" + d.describe() + "' is " + full.length
                    + " tokens; the model's context is " + context);
        }
        if (full.length < 2) {
            throw new IllegalArgumentException("the demonstration '" + d.describe() + "' has no completion tokens");
        }
        return new int[][] {java.util.Arrays.copyOf(full, k), java.util.Arrays.copyOfRange(full, k, full.length)};
    }

    /** Each demonstration's token count, prompt and completion together. */
    static int[] lengths(LanguageModel lm, List<Demonstration> demos) {
        int[] out = new int[demos.size()];
        for (int i = 0; i < out.length; i++) {
            int[][] p;
            try {
                p = split(lm, demos.get(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("demonstrations[" + i + "]: " + e.getMessage(), e);
            }
            out[i] = p[0].length + p[1].length;
        }
        return out;
    }

    /** Each row's real tokens (its length without padding). */
    int[] rowLengths() {
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            for (boolean v : valid[i]) {
                out[i] += v ? 1 : 0;
            }
        }
        return out;
    }

    static EncodedBatch of(LanguageModel lm, List<Demonstration> demos) {
        if (demos.isEmpty()) {
            throw new IllegalArgumentException("no demonstrations to train on");
        }
        int[][][] parts = new int[demos.size()][][];
        int t = 0;
        for (int i = 0; i < demos.size(); i++) {
            parts[i] = split(lm, demos.get(i));
            t = Math.max(t, parts[i][0].length + parts[i][1].length);
        }
        int[] completionTokens = new int[demos.size()];
        for (int i = 0; i < demos.size(); i++) {
            completionTokens[i] = parts[i][1].length;
        }
        EncodedBatch b = new EncodedBatch(demos.size(), t, completionTokens);
        for (int i = 0; i < demos.size(); i++) {
            int[] p = parts[i][0];
            int[] c = parts[i][1];
            int len = p.length + c.length;
            int pad = t - len;
            for (int j = 0; j < len; j++) {
                int at = i * t + pad + j;
                b.ids[at] = j < p.length ? p[j] : c[j - p.length];
                b.positions[at] = j;
                b.valid[i][pad + j] = true;
                if (j >= p.length - 1 && j < len - 1) {
                    b.targets[at] = c[j - p.length + 1];
                    b.predicts[at] = 1f;
                }
            }
        }
        return b;
    }
}
