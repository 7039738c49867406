package io.laai.train;

/** Called after each optimisation step of a fit: step number, cross-entropy, full objective. */
public interface TrainingProgress {
    void onStep(int step, double crossEntropy, double objective);

    /** Checked before every step of every fit (validation folds too); true stops training with {@link Cancelled}. */
    default boolean cancelled() {
        return false;
    }

    /** Training stopped because {@link #cancelled()} said so (the service is shutting down). */
    final class Cancelled extends RuntimeException {
        public Cancelled() {
            super("training cancelled");
        }
    }
}
