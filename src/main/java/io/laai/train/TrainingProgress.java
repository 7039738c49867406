package io.laai.train;

/** Called after each optimisation step of a fit: step number, cross-entropy, full objective. */
public interface TrainingProgress {
    void onStep(int step, double crossEntropy, double objective);

    /** Checked before every step of every fit (validation folds too); true stops training with {@link Cancelled}. */
    default boolean cancelled() {
        return false;
    }

    /** Checked after every step: true ends every fit with its best Δ so far (laai.trainer.max-training-seconds). */
    default boolean outOfTime() {
        return false;
    }

    /** Training stopped because {@link #cancelled()} said so (the service is shutting down). */
    final class Cancelled extends RuntimeException {
        public Cancelled() {
            super("training cancelled");
        }
    }
}
