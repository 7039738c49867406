package io.laai.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.intervention.Intervention;
import io.laai.model.LanguageModel;

/** The method's properties on the real stories260K. */
class TrainerTest {

    static LanguageModel lm;
    static List<TaskFile.Task> tasks;

    @BeforeAll
    static void load() {
        lm = LanguageModel.load(SharedData.stories260K(), Device.cpu());
        tasks = TaskFile.readTasks(SharedData.root().resolve("tasks/stories260K-examples.jsonl"));
    }

    @AfterAll
    static void close() {
        if (lm != null) {
            lm.close();
        }
    }

    static TaskFile.Task task(String name) {
        return tasks.stream().filter(t -> t.task().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void learnsATaskAndReportsHeldOutMetrics() {
        TaskFile.Task t = task("boy-named-max");
        TrainResult r = new Trainer(lm).train(t.task(), 3, t.train(), TrainConfig.DEFAULTS, null, null);
        assertEquals(0.0, r.baseValAccuracy(), "leave-one-out base accuracy");
        assertTrue(r.valAccuracy() >= 0.8, "leave-one-out accuracy " + r.valAccuracy());
        assertTrue(r.valLoss() < r.baseValLoss(), r.valLoss() + " vs base " + r.baseValLoss());
        assertTrue(Evaluator.accuracy(lm, r.intervention().steering(1.0), t.test()) >= 0.8);
        Intervention iv = r.intervention();
        assertEquals(3, iv.version());
        assertEquals(lm.fingerprint(), iv.modelFingerprint());
        assertEquals("5", iv.metadata().get("demonstrations"));
        assertTrue(iv.deltas().values().stream().allMatch(v -> Intervention.norm(v) > 0), "zero layers are pruned");
    }

    /** Tasks the defaults were not tuned on, of the same kind as the examples. */
    @Test
    void defaultsGeneraliseToUnseenTasks() {
        List<TaskFile.Task> unseen = List.of(
                new TaskFile.Task("girl-named-sue", demos("The girl was named| Sue", "Once upon a time, there was a girl named| Sue",
                        "One day, a little girl named| Sue", "There was a happy girl named| Sue"),
                        demos("A long time ago, there was a girl named| Sue", "The little girl was named| Sue",
                                "At school, there was a girl named| Sue", "Once, a kind girl named| Sue")),
                new TaskFile.Task("big-green", demos("He saw a big,| green", "She found a big,| green", "They had a big,| green"),
                        demos("Lily saw a big,| green", "There was a big,| green", "Mom gave him a big,| green",
                                "In the box was a big,| green")),
                new TaskFile.Task("went-to-the-store", demos("They went to the| store",
                        "One day, Lily and her mom went to the| store", "Tom wanted to go to the| store",
                        "After lunch, the family went to the| store"),
                        demos("The next day, they went to the| store", "Sam and his dad went to the| store",
                                "She asked her mom to go to the| store", "In the morning, the kids went to the| store")));
        double zeroShot = 0;
        double laai = 0;
        for (TaskFile.Task t : unseen) {
            zeroShot += Evaluator.accuracy(lm, io.laai.model.Steering.NONE, t.test()) / unseen.size();
            TrainResult r = new Trainer(lm).train(t.task(), 1, t.train(),
                    TrainConfig.DEFAULTS.with(Map.of("validation", "none")), null, null);
            laai += Evaluator.accuracy(lm, r.intervention().steering(1.0), t.test()) / unseen.size();
        }
        assertEquals(0.0, zeroShot);
        assertTrue(laai >= 0.8, "mean accuracy on unseen tasks " + laai);
    }

    private static List<Demonstration> demos(String... pairs) {
        return java.util.Arrays.stream(pairs).map(p -> new Demonstration(p.split("\\|")[0], p.split("\\|")[1])).toList();
    }

    @Test
    void raisingLambdaKeepsFewerHeads() {
        TaskFile.Task t = task("boy-named-max");
        int loose = train(t, Map.of("site", "attn_heads", "lambda2", "0.001")).activeGroups();
        int tight = train(t, Map.of("site", "attn_heads", "lambda2", "0.03")).activeGroups();
        assertTrue(tight < loose, "λ2=0.03 keeps " + tight + " heads, λ2=0.001 keeps " + loose);
        int residualLoose = train(t, Map.of("site", "residual", "lambda2", "0.001")).activeGroups();
        int residualTight = train(t, Map.of("site", "residual", "lambda2", "0.5")).activeGroups();
        assertTrue(residualTight < residualLoose, "residual: " + residualTight + " vs " + residualLoose + " layers");
    }

    private Intervention train(TaskFile.Task t, Map<String, String> settings) {
        Map<String, String> s = new java.util.HashMap<>(settings);
        s.put("validation", "none");
        return new Trainer(lm).train(t.task(), 1, t.train(), TrainConfig.DEFAULTS.with(s), null, null).intervention();
    }

    @Test
    void autoPicksTheLayerWithTheBestHeldOutScore() {
        TaskFile.Task t = task("big-blue");
        TrainConfig loo = TrainConfig.DEFAULTS.with(Map.of("validation", "loo", "steps", "60"));
        TrainResult auto = new Trainer(lm).train(t.task(), 1, t.train(), loo.with(Map.of("layers", "auto")), null, null);
        assertEquals(1, auto.layers().size());
        int best = -1;
        double bestAccuracy = -1;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (int layer = 0; layer < lm.config().numHiddenLayers(); layer++) {
            TrainResult r = new Trainer(lm).train(t.task(), 1, t.train(),
                    loo.with(Map.of("layers", Integer.toString(layer))), null, null);
            if (r.valAccuracy() > bestAccuracy || (r.valAccuracy() == bestAccuracy && r.valLoss() < bestLoss)) {
                best = layer;
                bestAccuracy = r.valAccuracy();
                bestLoss = r.valLoss();
            }
        }
        assertEquals(best, auto.layers().get(0));
        assertEquals(bestAccuracy, auto.valAccuracy());
    }

    @Test
    void warmStartReachesTheEarlierLossSooner() {
        TaskFile.Task t = task("boy-named-max");
        TrainConfig cfg = TrainConfig.DEFAULTS.with(Map.of("validation", "none"));
        TrainResult first = new Trainer(lm).train(t.task(), 1, t.train(), cfg, null, null);
        double target = first.trainLoss();
        List<Demonstration> batch2 = t.test();
        int cold = stepsToReach(batch2, cfg, null, target);
        int warm = stepsToReach(batch2, cfg, first.intervention(), target);
        assertTrue(warm < cold, "warm start took " + warm + " steps, cold " + cold + " to reach loss " + target);
    }

    private int stepsToReach(List<Demonstration> demos, TrainConfig cfg, Intervention start, double target) {
        int[] reached = {Integer.MAX_VALUE};
        new Trainer(lm).train("boy-named-max", 2, demos, cfg.with(Map.of("patience", "1000", "target_loss", "0")), start,
                (step, ce, objective) -> {
                    if (ce <= target && reached[0] == Integer.MAX_VALUE) {
                        reached[0] = step;
                    }
                });
        return reached[0];
    }

    @Test
    void aFitStopsOnceItReachesTheTargetLoss() {
        List<Demonstration> demos = task("boy-named-max").train();
        List<Integer> layers = List.of(0, 1, 2, 3, 4);
        TrainConfig cfg = TrainConfig.DEFAULTS.with(Map.of("validation", "none"));
        DeltaFit.Result stopped = DeltaFit.fit(lm, demos, layers, null, cfg, null);
        int[] reached = {Integer.MAX_VALUE};
        DeltaFit.Result free = DeltaFit.fit(lm, demos, layers, null, cfg.with(Map.of("target_loss", "0")),
                (step, ce, objective) -> reached[0] = ce <= 0.05 ? Math.min(reached[0], step) : reached[0]);
        assertTrue(stopped.crossEntropy() <= 0.05, "cross-entropy " + stopped.crossEntropy());
        assertEquals(stopped.bestStep(), stopped.steps(), "it stops at the step that reached the target");
        assertTrue(reached[0] <= stopped.steps(), "the same fit without a target got there by then: step " + reached[0]);
        assertTrue(free.steps() > stopped.steps(), "and went on: " + free.steps() + " steps against " + stopped.steps());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.DEFAULTS.with(Map.of("target_loss", "-1")));
        assertTrue(e.getMessage().contains("target_loss must be finite and >= 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.DEFAULTS.with(Map.of("target_loss", "low")));
        assertTrue(e.getMessage().contains("target_loss='low' is not a number"), e.getMessage());
    }

    @Test
    void badInputIsRefusedWithAReason() {
        Trainer trainer = new Trainer(lm);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> trainer.train("t", 1, List.of(), TrainConfig.DEFAULTS, null, null));
        assertTrue(e.getMessage().contains("no demonstrations"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> new Demonstration("The boy was named", ""));
        assertTrue(e.getMessage().contains("empty completion"), e.getMessage());

        String longPrompt = "Once upon a time there was a dog. ".repeat(300);
        e = assertThrows(IllegalArgumentException.class, () -> trainer.train("t", 1,
                List.of(new Demonstration(longPrompt, " Max")), TrainConfig.DEFAULTS, null, null));
        assertTrue(e.getMessage().contains("the model's context is 2048"), e.getMessage());

        List<Demonstration> demos = task("boy-named-max").train();
        e = assertThrows(DeltaFit.TrainingDiverged.class, () -> trainer.train("t", 1, demos,
                TrainConfig.DEFAULTS.with(Map.of("learning_rate", "1e300", "lambda1", "0", "lambda2", "0",
                        "validation", "none")), null, null));
        assertTrue(e.getMessage().startsWith("training diverged"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.DEFAULTS.with(Map.of("stepz", "3")));
        assertTrue(e.getMessage().contains("unknown training setting 'stepz'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.DEFAULTS.with(Map.of("layers", "9")).layerList(5));
        assertTrue(e.getMessage().contains("layer 9 does not exist"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.DEFAULTS.with(Map.of("span", "prompt")));
        assertTrue(e.getMessage().contains("span 'prompt' is not completion or all"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.DEFAULTS.with(Map.of("condition_strictness", "1.5")));
        assertTrue(e.getMessage().contains("condition_strictness must be in [0, 1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.DEFAULTS.with(Map.of("condition_strictness", "half")));
        assertTrue(e.getMessage().contains("condition_strictness='half' is not a number"), e.getMessage());
    }

    /** span=completion: the artifact steers as many tokens as the longest completion has; span=all: every token. */
    @Test
    void theArtifactSteersAsManyTokensAsTheLongestCompletion() {
        List<Demonstration> demos = List.of(new Demonstration("The boy was named", " Max"),
                new Demonstration("Lily saw", " a big red ball"));
        int longest = demos.stream().mapToInt(d -> EncodedBatch.split(lm, d)[1].length).max().orElseThrow();
        assertTrue(longest > EncodedBatch.split(lm, demos.get(0))[1].length, "the completions differ in length");
        TrainConfig quick = TrainConfig.DEFAULTS.with(Map.of("validation", "none", "steps", "5"));
        Intervention spanned = new Trainer(lm).train("t", 1, demos, quick, null, null).intervention();
        assertEquals(Integer.toString(longest), spanned.metadata().get(Intervention.SPAN_TOKENS));
        assertEquals(longest, spanned.span());
        assertEquals(longest, spanned.steering(1.0).span());
        Intervention all = new Trainer(lm).train("t", 1, demos, quick.with(Map.of("span", "all")), null, null)
                .intervention();
        assertEquals(null, all.metadata().get(Intervention.SPAN_TOKENS));
        assertEquals(Integer.MAX_VALUE, all.steering(1.0).span());
    }

    @Test
    void chatDemonstrationsAreTokenizedAsAChatRequestIs() throws Exception {
        String chatml = java.nio.file.Files.readString(java.nio.file.Path.of("src/test/resources/chatml.jinja"));
        List<Map<String, Object>> messages = List.of(Map.of("role", "system", "content", "You tell stories."),
                Map.of("role", "user", "content", "The boy was named"));
        Demonstration chat = Demonstration.chat(messages, " Max");
        try (LanguageModel withTemplate = LanguageModel.load(SharedData.stories260K(), Device.cpu(),
                ai.djl.ndarray.types.DataType.FLOAT32, chatml)) {
            String rendered = withTemplate.chat().orElseThrow().render(messages, true);
            assertTrue(rendered.endsWith("<|im_start|>assistant\n"), rendered);
            int[][] parts = EncodedBatch.split(withTemplate, chat);
            // What /v1/chat/completions feeds the model: no BOS added before the template's text.
            assertEquals(java.util.Arrays.toString(withTemplate.encodeRendered(rendered)),
                    java.util.Arrays.toString(java.util.Arrays.copyOf(parts[0], withTemplate.encodeRendered(rendered).length)));
            int bos = withTemplate.config().bosTokenId();
            assertEquals(1, java.util.Arrays.stream(parts[0]).filter(t -> t == bos).count(), "one BOS, the template's");
            assertEquals(withTemplate.config().bosTokenId(), EncodedBatch.split(withTemplate,
                    new Demonstration("The boy was named", " Max"))[0][0], "text prompts keep theirs");
            assertEquals(rendered, chat.rendered(withTemplate).prompt());
            assertEquals(java.util.Arrays.deepToString(parts), java.util.Arrays.deepToString(EncodedBatch.split(withTemplate,
                    new Demonstration(rendered, " Max"))), "a prompt the template rendered reads as the messages it came from");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.requireTrainable(lm, List.of(new Demonstration("a", " b"), chat), Long.MAX_VALUE));
        assertTrue(e.getMessage().startsWith("demonstrations[1]: a demonstration gives messages, but the model"), e.getMessage());
        assertTrue(e.getMessage().contains("has no chat template"), e.getMessage());
    }

    @Test
    void nonFiniteDeltasNeverBecomeAnIntervention() {
        java.util.TreeMap<Integer, float[]> deltas = new java.util.TreeMap<>();
        float[] v = new float[lm.config().hiddenSize()];
        v[3] = Float.NaN;
        deltas.put(1, v);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Intervention("t", 1,
                io.laai.intervention.Site.RESIDUAL, io.laai.intervention.Positions.ALL, deltas, "x", 64, 8, 8, Map.of()));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
    }

    @Test
    void problemsFittedTogetherEqualTheSameProblemsFittedAlone() {
        List<Demonstration> a = task("boy-named-max").train();
        List<Demonstration> b = tasks.get(1).train();
        TrainConfig fast = TrainConfig.DEFAULTS.with(Map.of("steps", "40", "validation", "none"));
        TrainConfig slower = fast.with(Map.of("learning_rate", "0.05", "patience", "5"));
        DeltaFit.Problem pa = new DeltaFit.Problem(a, List.of(0, 1, 2, 3, 4), null, fast, null);
        DeltaFit.Problem pb = new DeltaFit.Problem(b, List.of(2), null, slower, null);
        List<DeltaFit.Result> together = DeltaFit.fitMany(lm, List.of(pa, pb), null);
        DeltaFit.Result aloneA = DeltaFit.fit(lm, a, pa.layers(), null, fast, null);
        DeltaFit.Result aloneB = DeltaFit.fit(lm, b, pb.layers(), null, slower, null);
        assertClose(aloneA, together.get(0));
        assertClose(aloneB, together.get(1));
    }

    @Test
    void tasksTrainedTogetherMatchTasksTrainedAlone() {
        Trainer trainer = new Trainer(lm);
        List<Trainer.Job> jobs = tasks.subList(0, 3).stream()
                .map(t -> new Trainer.Job(t.task(), 1, t.train(), TrainConfig.DEFAULTS, null, null)).toList();
        List<TrainResult> together = trainer.trainMany(jobs, null);
        for (int i = 0; i < jobs.size(); i++) {
            Trainer.Job j = jobs.get(i);
            TrainResult alone = trainer.train(j.task(), 1, j.demos(), j.cfg(), null, null);
            TrainResult t = together.get(i);
            assertEquals(j.task(), t.intervention().task());
            assertEquals(alone.valAccuracy(), t.valAccuracy(), j.task());
            assertEquals(alone.baseValAccuracy(), t.baseValAccuracy(), j.task());
            assertEquals(alone.layers(), t.layers(), j.task());
            assertEquals(alone.trainLoss(), t.trainLoss(), 1e-3 * Math.max(1, alone.trainLoss()), j.task());
        }
    }

    /** Batched and alone differ only by float rounding (other padding, other reduction order). */
    static void assertClose(DeltaFit.Result alone, DeltaFit.Result together) {
        assertEquals(alone.steps(), together.steps(), "steps");
        assertEquals(alone.crossEntropy(), together.crossEntropy(), 1e-4 * Math.max(1, alone.crossEntropy()));
        for (int i = 0; i < alone.params().length; i++) {
            for (int j = 0; j < alone.params()[i].length; j++) {
                assertEquals(alone.params()[i][j], together.params()[i][j], 1e-3, "param " + i + "/" + j);
            }
        }
    }
}
