package io.laai.train;

import java.util.List;

import io.laai.intervention.Intervention;

/**
 * A trained intervention and how it was obtained. Validation metrics are NaN where there were
 * too few demonstrations to hold any out; previousValAccuracy is NaN without a previous version.
 */
public record TrainResult(Intervention intervention, double trainLoss, int steps, List<Integer> layers,
        double valAccuracy, double baseValAccuracy, double valLoss, double baseValLoss, double previousValAccuracy,
        long millis) {
}
