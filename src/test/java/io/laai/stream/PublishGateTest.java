package io.laai.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.laai.train.TrainResult;

class PublishGateTest {

    static TrainResult result(double val, double base, double valLoss, double baseLoss, double previous) {
        return new TrainResult(null, 0.1, 10, List.of(1), val, base, valLoss, baseLoss, previous, 5);
    }

    @Test
    void publishesOnlyWhatBeatsTheBaseModelAndKeepsUpWithThePreviousVersion() {
        assertEquals(Optional.empty(), PublishGate.refusal(result(1.0, 0.0, 0.5, 3.0, Double.NaN)));
        assertEquals(Optional.empty(), PublishGate.refusal(result(0.8, 0.8, 0.5, 3.0, 0.8)), "equal accuracy, lower loss");
        assertEquals(Optional.empty(), PublishGate.refusal(result(Double.NaN, Double.NaN, Double.NaN, Double.NaN, 1.0)),
                "nothing held out: nothing to judge by");
        assertTrue(PublishGate.refusal(result(0.2, 0.4, 0.5, 3.0, Double.NaN)).orElseThrow().contains("below the base model's 0.400"));
        assertTrue(PublishGate.refusal(result(0.0, 0.0, 3.5, 3.0, Double.NaN)).orElseThrow().contains("no better than the base"));
        assertTrue(PublishGate.refusal(result(0.6, 0.0, 0.5, 3.0, 0.8)).orElseThrow().contains("previous version's 0.800"));
    }

    @Test
    void anUnvalidatedCandidateNeverReplacesAValidatedVersionUnlessAllowed() {
        TrainResult unvalidated = result(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        assertTrue(PublishGate.refusal(unvalidated, true, false).orElseThrow().contains("cannot be validated"));
        assertEquals(Optional.empty(), PublishGate.refusal(unvalidated, true, true), "allow_unvalidated");
        assertEquals(Optional.empty(), PublishGate.refusal(unvalidated, false, false), "nothing validated to replace");
        assertEquals(Optional.empty(), PublishGate.refusal(result(1.0, 0.0, 0.5, 3.0, Double.NaN), true, false));
    }
}
