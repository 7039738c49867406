package io.laai.model;

import java.util.Arrays;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;

/** Test helper: logits of every position of one sequence, recomputed from scratch (no cache). */
public final class Forward {
    private Forward() {
    }

    /** log-softmax over the vocabulary at every position, by libtorch: (T × V) flattened. */
    public static float[] logSoftmax(LanguageModel lm, int[] ids) {
        return run(lm, ids, null, logits -> logits.logSoftmax(-1));
    }

    static float[] logits(LanguageModel lm, int[] ids, Hooks hooks) {
        return run(lm, ids, hooks, logits -> logits);
    }

    private static float[] run(LanguageModel lm, int[] ids, Hooks hooks, java.util.function.UnaryOperator<NDArray> then) {
        int t = ids.length;
        boolean[][] valid = new boolean[1][t];
        Arrays.fill(valid[0], true);
        try (NDManager m = lm.transformer().manager().newSubManager(); NDScope scope = new NDScope()) {
            NDArray idArray = m.create(Arrays.stream(ids).asLongStream().toArray(), new Shape(1, t));
            NDArray pos = m.arange(0, t, 1, ai.djl.ndarray.types.DataType.INT64).reshape(1, t);
            NDArray bias = m.create(Generator.attentionBias(valid, t, 0, t), new Shape(1, 1, t, t));
            return then.apply(lm.transformer().forward(idArray, pos, bias, null, hooks, false)).toFloatArray();
        }
    }

    static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
