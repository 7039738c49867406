package io.laai.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.intervention.Condition;
import io.laai.model.LanguageModel;
import io.laai.model.Steering;

/** A task's condition on the real stories260K: it accepts the task's prompts and turns the Δ off elsewhere. */
class ConditionTest {

    static LanguageModel lm;

    @BeforeAll
    static void load() {
        lm = LanguageModel.load(SharedData.stories260K(), Device.cpu());
    }

    @AfterAll
    static void close() {
        if (lm != null) {
            lm.close();
        }
    }

    @Test
    void acceptsTheTasksPromptsAndSparesUnrelatedText() {
        TaskFile.Task task = TaskFile.readTasks(SharedData.root().resolve("tasks/stories260K-examples.jsonl")).stream()
                .filter(t -> t.task().equals("went-to-the-beach")).findFirst().orElseThrow();
        Condition c = Conditions.fit(lm, task.train());
        assertTrue(task.train().stream().allMatch(d -> c.holds(lm, d.promptTokens(lm))), "every training prompt");
        long tested = task.test().stream().filter(d -> c.holds(lm, d.promptTokens(lm))).count();
        assertTrue(tested >= task.test().size() - 1, tested + " of " + task.test().size() + " test prompts accepted");
        SideEffects.Reference ref = SideEffects.Reference.of(lm, SideEffects.defaultPrompts());
        long unrelated = ref.prompts().stream().filter(ids -> c.holds(lm, ids)).count();
        assertTrue(unrelated <= 2, unrelated + " of " + ref.prompts().size() + " unrelated prompts accepted");

        io.laai.intervention.Intervention plain = new Trainer(lm).train(task.task(), 1, task.train(),
                TrainConfig.DEFAULTS.with(Map.of("validation", "none", "kl_weight", "0", "condition", "false")), null, null)
                .intervention();
        assertTrue(plain.condition() == null);
        Steering s = plain.steering(1.0);
        // The trainer's own: the same condition, attached to the artifact and resolved by generation.
        Steering attached = plain.withCondition(c).steering(1.0);
        assertTrue(attached instanceof Steering.Conditional);
        assertTrue(SideEffects.measure(lm, ref, attached).equals(SideEffects.measure(lm, ref,
                ids -> c.holds(lm, ids) ? s : Steering.NONE)), "generation resolves the attached condition per prompt");
        SideEffects always = SideEffects.measure(lm, ref, s);
        SideEffects conditional = SideEffects.measure(lm, ref, ids -> c.holds(lm, ids) ? s : Steering.NONE);
        assertTrue(conditional.nllIncrease() < always.nllIncrease() / 4 && conditional.unchanged() > always.unchanged(),
                conditional + " vs " + always);
        double accuracy = Evaluator.accuracy(lm, task.test().stream()
                .map(d -> c.holds(lm, d.promptTokens(lm)) ? s : Steering.NONE).toList(), task.test(), "");
        assertTrue(accuracy >= 0.75, "conditional accuracy " + accuracy);
    }
}
