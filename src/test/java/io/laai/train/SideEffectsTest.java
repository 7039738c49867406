package io.laai.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.intervention.Condition;
import io.laai.intervention.Intervention;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;
import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.ModelConfig;
import io.laai.model.PromptScorer;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;
import io.laai.model.TokenLogprob;

/**
 * The side-effect measure on the real stories260K (scoring a forced continuation is what generation
 * sees), and what a task's condition does to it.
 */
class SideEffectsTest {

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

    static Steering random(Site site, Positions positions, float scale) {
        ModelConfig c = lm.config();
        int width = Intervention.width(site, c.hiddenSize(), c.numAttentionHeads(), c.headDim());
        Random r = new Random(7);
        TreeMap<Integer, float[]> deltas = new TreeMap<>();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            float[] d = new float[width];
            for (int j = 0; j < width; j++) {
                d[j] = (float) r.nextGaussian() * scale;
            }
            deltas.put(l, d);
        }
        return new Intervention("t", 1, site, positions, deltas, lm.fingerprint(), c.hiddenSize(), c.numAttentionHeads(),
                c.headDim(), Map.of()).steering(1.0);
    }

    @Test
    void aForcedContinuationScoresAsGenerationSampledIt() {
        int[] prompt = lm.encodePrompt("Once upon a time");
        for (Positions positions : Positions.values()) {
            Steering s = random(Site.ATTN_HEADS, positions, 0.5f);
            SamplingParams params = new SamplingParams(12, 0, 1, 0, List.of(), true, 0, 0, Map.of(), 0, java.util.Set.of());
            Generator.Result g = new Generator(lm).generate(List.of(new Generator.Request("", prompt, params, s)), null).get(0);
            float[][] rows = PromptScorer.continuation(lm, prompt, g.tokens(), s);
            for (int k = 0; k < g.tokens().length; k++) {
                TokenLogprob lp = g.logprobs().get(k);
                assertEquals(lp.logprob(), rows[k][g.tokens()[k]], 1e-4, positions + " token " + k);
                int argmax = 0;
                for (int v = 1; v < rows[k].length; v++) {
                    argmax = rows[k][v] > rows[k][argmax] ? v : argmax;
                }
                assertEquals(g.tokens()[k], argmax, positions + ": greedy picked the scorer's argmax at " + k);
            }
        }
    }

    @Test
    void noInterventionHasNoSideEffectsAndAStrongOneHasMany() {
        SideEffects.Reference ref = SideEffects.Reference.of(lm, SideEffects.defaultPrompts());
        assertTrue(ref.prompts().size() >= 20, "at least 20 unrelated prompts");
        SideEffects none = SideEffects.measure(lm, ref, Steering.NONE);
        assertEquals(0.0, none.kl(), 1e-9);
        assertEquals(0.0, none.nllIncrease(), 1e-9);
        assertEquals(1.0, none.unchanged());
        assertEquals(ref.nll(), none.steeredNll(), 1e-9);

        SideEffects mild = SideEffects.measure(lm, ref, random(Site.RESIDUAL, Positions.LAST, 0.05f));
        SideEffects strong = SideEffects.measure(lm, ref, random(Site.RESIDUAL, Positions.ALL, 2f));
        assertTrue(mild.kl() > 0 && mild.kl() < strong.kl(), mild + " vs " + strong);
        assertTrue(strong.nllIncrease() > mild.nllIncrease(), mild + " vs " + strong);
        assertTrue(strong.unchanged() < 1.0 && strong.steeredNll() > ref.nll(), strong.toString());
    }

    /** A task's condition accepts the task's prompts and turns the Δ off elsewhere. */
    @Test
    void aConditionAcceptsTheTasksPromptsAndSparesUnrelatedText() {
        TaskFile.Task task = TaskFile.readTasks(SharedData.root().resolve("tasks/stories260K-examples.jsonl")).stream()
                .filter(t -> t.task().equals("went-to-the-beach")).findFirst().orElseThrow();
        Condition c = new Conditions(lm).fit(task.train(), TrainConfig.DEFAULTS.conditionStrictness());
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
