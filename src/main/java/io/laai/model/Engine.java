package io.laai.model;

import java.util.List;

/**
 * What executes the model for generation, scoring and activations: the DJL engine (libtorch, the
 * one training uses, and the one for a GPU) or the Java engine ({@code io.laai.cpu}, the edge's
 * default on a CPU). Both run the same model definition and are held equal by tests; everything
 * above them (batching, sampling, steering, stop strings) is written once against this interface.
 * Training's autograd stays on {@link Transformer}.
 */
public interface Engine extends AutoCloseable {

    /** laai.edge.engine: which engine serves. */
    enum Kind {
        DJL, JAVA;

        /**
         * auto: DJL where laai.device is gpu, the Java engine otherwise; decided from the settings
         * alone, so that choosing the Java engine never loads libtorch to look for a GPU.
         */
        public static Kind parse(String setting, String deviceSetting) {
            return switch (setting.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "auto" -> "gpu".equalsIgnoreCase(deviceSetting.trim()) ? DJL : JAVA;
                case "java" -> JAVA;
                case "djl" -> DJL;
                default -> throw new IllegalArgumentException("laai.edge.engine='" + setting + "' is not one of auto, java, djl");
            };
        }
    }

    /**
     * What a process loads: the engine that serves, whether training (the DJL transformer, with
     * autograd) is needed beside it, and the Java engine's threads.
     */
    record Choice(Kind serving, boolean training, int threads) {
        /** DJL alone: training and serving on libtorch, as the trainer and the offline commands run. */
        public static final Choice DJL = new Choice(Kind.DJL, true, 1);

        public Choice {
            if (threads < 1) {
                throw new IllegalArgumentException("the Java engine's threads must be at least 1, were " + threads);
            }
        }
    }

    /** Whether DJL's PyTorch engine is on the class path: builds with -Dedge or -Pnative leave it out. */
    static boolean libtorchPackaged() {
        try {
            Class.forName("ai.djl.pytorch.engine.PtEngine", false, Engine.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Refuses, naming {@code what}, where this build has no libtorch. */
    static void requireLibtorch(String what) {
        if (!libtorchPackaged()) {
            throw new IllegalArgumentException(what + " needs libtorch, which this build leaves out (an edge-only build, -Dedge"
                    + " or -Pnative): run laai.role=edge with laai.edge.engine=java, or use the full build");
        }
    }

    /** What a forward pass returns: the last position's argmax, its logits, or every position's logits. */
    enum Output {
        ARGMAX_LAST, LAST, ALL
    }

    /**
     * One forward pass's input, row-major: {@code ids} and {@code positions} (rows × tokens,
     * left-padded; padding counts no position), {@code bias} (rows × tokens × keys) the additive
     * attention mask, 0 where a query may see a key and {@link Transformer#MASKED} elsewhere, with
     * keys = the cache's length after this pass (or tokens without a cache), and {@code deltaMask}
     * (rows × tokens) where the rows' Δ apply, or null for every position.
     */
    record Batch(int rows, int tokens, long[] ids, long[] positions, float[] bias, float[] deltaMask) {
    }

    /** argMax (one per row) for {@link Output#ARGMAX_LAST}, else logits (rows × [1 or tokens] × vocab). */
    record Logits(int[] argMax, float[] values) {
    }

    /**
     * Keys and values for a fixed number of rows and token slots (columns); every row writes at the
     * same column, {@link #length()}. Close it when done.
     */
    interface Cache extends AutoCloseable {
        int length();

        int capacity();

        /** The next forward passes use rows [0, n) of the cache. */
        void rows(int n);

        /** Moves the write column forward (the columns skipped hold nothing; masks must exclude them) or back to 0. */
        void jumpTo(int column);

        /** Copies columns [from, from + n) of {@code row} of another cache of this engine into row {@code to} at [at, at + n). */
        void copyRow(Cache source, int row, int from, int to, int at, int n);

        /** Moves every row's columns [0, length) by {@code by}: left drops the first -by, right opens by at the front. */
        void shift(int by);

        @Override
        void close();
    }

    /** The batch rows' steering vectors, placed once per batch membership. Close it when done. */
    interface Deltas extends AutoCloseable {
        @Override
        void close();
    }

    ModelConfig config();

    Cache cache(int rows, int capacity);

    /** Refuses (IllegalArgumentException) vectors that do not fit the model. */
    Deltas deltas(List<Steering> rows);

    /** @param cache null to attend within this pass only */
    Logits forward(Batch batch, Cache cache, Deltas deltas, Output output);

    /** Each layer's output hidden state at the last token of ids, after any residual Δ: (layers, hidden). */
    float[][] lastTokenResiduals(int[] ids);

    /** What the weights take and where, for the start-up log: "4.0 MiB f32 on cpu (djl)". */
    String describe();

    @Override
    void close();
}
