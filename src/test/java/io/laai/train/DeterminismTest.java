package io.laai.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.model.LanguageModel;

/**
 * Training is deterministic on CPU: the same demonstrations and settings give bit-identical
 * trajectories. It also guards the autograd path against reading freed memory, which showed up
 * as an occasional garbage gradient when constants were passed to DJL as Java numbers.
 */
class DeterminismTest {

    @Test
    void repeatedFitsAreBitIdentical() {
        try (LanguageModel lm = LanguageModel.load(SharedData.stories260K(), Device.cpu())) {
            List<Demonstration> demos = TaskFile.readTasks(SharedData.root().resolve("tasks/stories260K-examples.jsonl"))
                    .get(0).train();
            TrainConfig cfg = TrainConfig.DEFAULTS.with(Map.of("steps", "80", "patience", "1000"));
            List<String> runs = new ArrayList<>();
            for (int r = 0; r < 6; r++) {
                StringBuilder trace = new StringBuilder();
                DeltaFit.fit(lm, demos, List.of(0, 1, 2, 3, 4), null, cfg,
                        (step, ce, objective) -> trace.append(Double.toHexString(ce)).append(' '));
                runs.add(trace.toString());
                System.gc(); // free the Java side of earlier temporaries, as a long-running service would
            }
            for (int r = 1; r < runs.size(); r++) {
                assertEquals(runs.get(0), runs.get(r), "run " + r + " differs from run 0");
            }
        }
    }
}
