package io.laai.train;

/** Called after each optimisation step of a fit: step number, cross-entropy, full objective. */
public interface TrainingProgress {
    void onStep(int step, double crossEntropy, double objective);
}
