package io.laai.stream;

import java.util.Locale;
import java.util.Optional;

import io.laai.train.TrainResult;

/**
 * README's publish gate: a candidate is published only if, on the demonstrations validation
 * held out, it beats the base model and is no worse than the task's previous version. The previous
 * version may have trained on some of those demonstrations (they were in its window), so the
 * comparison leans towards keeping it; a task whose behaviour changed still moves on, because the
 * previous version then fails the new demonstrations.
 */
public final class PublishGate {

    private PublishGate() {
    }

    /** Empty when the candidate may be published, else the reason it may not (no previous version, nothing allowed). */
    public static Optional<String> refusal(TrainResult r) {
        return refusal(r, false, false);
    }

    /**
     * Empty when the candidate may be published, else the reason it may not.
     *
     * @param previousValidated the task's current version was validated (its val_accuracy is a number)
     * @param allowUnvalidated  the batch asked, with allow_unvalidated, to publish a candidate that cannot be validated
     */
    public static Optional<String> refusal(TrainResult r, boolean previousValidated, boolean allowUnvalidated) {
        if (Double.isNaN(r.valAccuracy())) {
            // One demonstration, or validation "none": nothing held out to judge by. Such a candidate
            // never replaces a version that was judged, unless the batch says so.
            if (previousValidated && !allowUnvalidated) {
                return Optional.of("the candidate cannot be validated (no demonstrations held out) and the current version "
                        + "was; send more demonstrations, or set allow_unvalidated to replace it anyway");
            }
            return Optional.empty();
        }
        if (r.valAccuracy() < r.baseValAccuracy()) {
            return Optional.of(String.format(Locale.ROOT,
                    "held-out accuracy %.3f is below the base model's %.3f", r.valAccuracy(), r.baseValAccuracy()));
        }
        if (r.valAccuracy() == r.baseValAccuracy() && !(r.valLoss() < r.baseValLoss())) {
            return Optional.of(String.format(Locale.ROOT,
                    "no better than the base model on held-out demonstrations (accuracy %.3f both; loss %.4f vs %.4f)",
                    r.valAccuracy(), r.valLoss(), r.baseValLoss()));
        }
        if (r.valAccuracy() < r.previousValAccuracy()) {
            return Optional.of(String.format(Locale.ROOT,
                    "held-out accuracy %.3f is below the previous version's %.3f", r.valAccuracy(), r.previousValAccuracy()));
        }
        return Optional.empty();
    }
}
