package io.laai.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.model.LanguageModel;
import io.laai.model.Llama2cCheckpoint;
import io.laai.model.Steering;

/**
 * The default settings on the task families of src/test/resources/tasks (tuning tasks, written
 * for this; README, "Training"), two tasks each: the base model fails them, the defaults keep at
 * least what they reached when chosen, and their side effects on unrelated text stay bounded.
 * These are floors against regressions at what the defaults reach (the defaults before target_loss,
 * at attn_heads, fall below two of them; multi-word's is the goal, 0.9, which the defaults before
 * span=completion and condition_strictness 0.25 missed at 0.62), below the goals README states for
 * the other families, which the defaults do not yet meet.
 */
class TaskFamiliesTest {

    @TempDir
    Path dir;

    record Family(String file, List<String> tasks, double minAccuracy, double maxNllIncrease) {
    }

    @Test
    void theDefaultsOnEachFamily() throws Exception {
        try (LanguageModel stories = LanguageModel.load(SharedData.stories260K(), Device.cpu())) {
            check(stories, new Family("stories260K-multiword.jsonl", List.of("went-home-to-sleep", "a-small-green-frog"),
                    0.9, 0.5));
            check(stories, new Family("stories260K-function.jsonl", List.of("name-of-pet", "color-of-thing"), 0.85, 0.5));
            check(stories, new Family("stories260K-oneshot.jsonl", List.of("one-shot-named-sue", "one-shot-under-the-bed"),
                    0.5, 0.5));
        }
        Path aidreams = Llama2cCheckpoint.writeHfCheckpoint(SharedData.model("aidreams260K/aidreams260K.bin"),
                SharedData.model("aidreams260K/tok512.bin"), dir.resolve("aidreams260K"));
        try (LanguageModel lm = LanguageModel.load(aidreams, Device.cpu())) {
            check(lm, new Family("aidreams260K-multiword.jsonl", List.of("whispers-of-silver-rain", "a-tapestry-of-light"),
                    0.85, 0.5));
        }
    }

    private static void check(LanguageModel lm, Family f) {
        List<TaskFile.Task> tasks = TaskFile.readTasks(Path.of("src/test/resources/tasks", f.file())).stream()
                .filter(t -> f.tasks().contains(t.task())).toList();
        assertEquals(f.tasks().size(), tasks.size(), f.file());
        SideEffects.Reference reference = SideEffects.Reference.of(lm, SideEffects.defaultPrompts());
        double accuracy = 0;
        double increase = 0;
        for (TaskFile.Task t : tasks) {
            assertEquals(0.0, Evaluator.accuracy(lm, Steering.NONE, t.test()), t.task() + ": the base model fails it");
            TrainResult r = new Trainer(lm).train(t.task(), 1, t.train(), TrainConfig.DEFAULTS.with(Map.of("validation",
                    "none")), null, null);
            Steering s = r.intervention().steering(1.0);
            accuracy += Evaluator.accuracy(lm, s, t.test()) / tasks.size();
            increase += SideEffects.measure(lm, reference, s).nllIncrease() / tasks.size();
        }
        assertTrue(accuracy >= f.minAccuracy(), f.file() + ": mean accuracy " + accuracy + " < " + f.minAccuracy());
        assertTrue(increase <= f.maxNllIncrease(), f.file() + ": mean NLL increase " + increase + " > " + f.maxNllIncrease());
    }
}
