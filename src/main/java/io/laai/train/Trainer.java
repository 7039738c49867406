package io.laai.train;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import io.laai.intervention.Composition;
import io.laai.intervention.Intervention;
import io.laai.model.LanguageModel;
import io.laai.model.MemoryEstimate;
import io.laai.model.ModelConfig;
import io.laai.model.Steering;

/**
 * Learns a task's intervention from demonstrations: validation (leave-one-out under six
 * demonstrations, else a held-out split) reports how the intervention and the base model do on
 * demonstrations they did not see; layer choice {@code auto} keeps the single layer that scores
 * best there; the final fit uses every demonstration; groups driven to zero are pruned.
 * <p>
 * Independent fits run together in batched steps ({@link DeltaFit#fitMany}): the validation folds
 * and layer candidates of a task, and with {@link #trainMany} several tasks at once.
 */
public final class Trainer {

    private final LanguageModel lm;
    private final long memoryBudget;

    public Trainer(LanguageModel lm) {
        this(lm, Long.MAX_VALUE);
    }

    /** memoryBudget: native bytes one training step may use; larger steps run in chunks of rows (DeltaFit). */
    public Trainer(LanguageModel lm, long memoryBudget) {
        this.lm = lm;
        this.memoryBudget = memoryBudget;
    }

    /** A demonstration whose training alone would need more memory than the budget allows. */
    public static final class TooLarge extends IllegalArgumentException {
        TooLarge(String message) {
            super(message);
        }
    }

    /**
     * One task's training: version {@code version} of {@code task}. {@code previous}, the task's
     * current version if any, is the warm start (when its site and positions match) and is scored
     * on the same held-out demonstrations as the candidate, for the publish gate. {@code progress},
     * when given, hears the steps of the task's final fit.
     */
    public record Job(String task, long version, List<Demonstration> demos, TrainConfig cfg, Intervention previous,
            TrainingProgress progress) {
    }

    public TrainResult train(String task, long version, List<Demonstration> demos, TrainConfig cfg,
            Intervention previous, TrainingProgress progress) {
        return trainMany(List.of(new Job(task, version, demos, cfg, previous, progress)), progress).get(0);
    }

    /**
     * Trains tasks together; results in the order of {@code jobs}. Tasks with different sites or
     * position rules are trained in separate groups. {@code cancellation}, when given, can stop
     * them all. {@code millis} of each result is the whole call's time.
     */
    public List<TrainResult> trainMany(List<Job> jobs, TrainingProgress cancellation) {
        for (Job j : jobs) {
            if (j.demos().isEmpty()) {
                throw new IllegalArgumentException("no demonstrations to train on (task " + j.task() + ")");
            }
        }
        // Chat demonstrations are rendered once here, not at every encoding.
        jobs = jobs.stream().map(j -> new Job(j.task(), j.version(), Demonstration.rendered(lm, j.demos()), j.cfg(),
                j.previous(), j.progress())).toList();
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int j = 0; j < jobs.size(); j++) {
            TrainConfig c = jobs.get(j).cfg();
            groups.computeIfAbsent(c.site().id() + "/" + c.positions().id(), k -> new ArrayList<>()).add(j);
        }
        TrainResult[] out = new TrainResult[jobs.size()];
        for (List<Integer> group : groups.values()) {
            List<TrainResult> results = trainGroup(group.stream().map(jobs::get).toList(), cancellation);
            for (int i = 0; i < group.size(); i++) {
                out[group.get(i)] = results.get(i);
            }
        }
        return List.of(out);
    }

    /** Per job: its folds, the layer sets it tries, its warm start. */
    private final class Plan {
        final Job job;
        final Intervention warmStart;
        final List<Fold> folds;
        final List<List<Integer>> candidates = new ArrayList<>();
        Score chosen;
        List<Integer> layers;

        Plan(Job job) {
            this.job = job;
            Intervention w = job.previous();
            this.warmStart = w != null && w.site() == job.cfg().site() && w.positions() == job.cfg().positions() ? w : null;
            this.folds = folds(job.demos(), job.cfg());
            this.layers = job.cfg().layerList(lm.config().numHiddenLayers());
            if (job.cfg().layers().equals("auto")) {
                layers.forEach(l -> candidates.add(List.of(l)));
            } else if (!folds.isEmpty()) {
                candidates.add(layers);
            }
        }

        List<Demonstration> heldOut() {
            return folds.stream().flatMap(f -> f.test.stream()).toList();
        }
    }

    private List<TrainResult> trainGroup(List<Job> jobs, TrainingProgress cancellation) {
        long start = System.nanoTime();
        List<Plan> plans = jobs.stream().map(Plan::new).toList();
        Conditions conditions = new Conditions(lm);
        validate(plans, cancellation, conditions);
        List<DeltaFit.Problem> finals = new ArrayList<>();
        for (Plan p : plans) {
            if (p.chosen != null && p.job.cfg().layers().equals("auto")) {
                p.layers = p.chosen.layers;
            }
            finals.add(new DeltaFit.Problem(p.job.demos(), p.layers, init(p.warmStart, p.layers), p.job.cfg(),
                    p.job.progress()));
        }
        List<DeltaFit.Result> fits = DeltaFit.fitMany(lm, finals, cancellation, memoryBudget);

        // The base model and each previous version on the held-out demonstrations, in one generation.
        List<Steering> steering = new ArrayList<>();
        List<Demonstration> items = new ArrayList<>();
        for (Plan p : plans) {
            for (Demonstration d : p.heldOut()) {
                steering.add(Steering.NONE);
                items.add(d);
            }
            if (p.job.previous() != null) {
                Steering prev = Composition.of(Map.of(p.job.previous(), 1.0));
                for (Demonstration d : p.heldOut()) {
                    steering.add(prev);
                    items.add(d);
                }
            }
        }
        boolean[] correct = items.isEmpty() ? new boolean[0] : Evaluator.correct(lm, steering, items, "");
        long millis = (System.nanoTime() - start) / 1_000_000;
        List<TrainResult> results = new ArrayList<>();
        int at = 0;
        for (int j = 0; j < plans.size(); j++) {
            Plan p = plans.get(j);
            int n = p.heldOut().size();
            double baseAccuracy = n == 0 ? Double.NaN : fraction(correct, at, n);
            at += n;
            double previousAccuracy = Double.NaN;
            if (p.job.previous() != null) {
                previousAccuracy = n == 0 ? Double.NaN : fraction(correct, at, n);
                at += n;
            }
            double baseLoss = n == 0 ? Double.NaN
                    : DeltaFit.crossEntropy(lm, EncodedBatch.of(lm, p.heldOut()), p.layers, null, p.job.cfg().positions(),
                            p.job.cfg().site());
            results.add(result(p, fits.get(j), baseAccuracy, baseLoss, previousAccuracy, millis, conditions));
        }
        return results;
    }

    private TrainResult result(Plan p, DeltaFit.Result fit, double baseAccuracy, double baseLoss, double previousAccuracy,
            long millis, Conditions conditions) {
        Job job = p.job;
        TrainConfig cfg = job.cfg();
        ModelConfig c = lm.config();
        TreeMap<Integer, float[]> kept = new TreeMap<>();
        for (int i = 0; i < p.layers.size(); i++) {
            if (Intervention.norm(fit.params()[i]) > 0) {
                kept.put(p.layers.get(i), fit.params()[i]);
            }
        }
        double valAccuracy = p.chosen == null ? Double.NaN : p.chosen.accuracy;
        double valLoss = p.chosen == null ? Double.NaN : p.chosen.loss;
        Map<String, String> meta = new LinkedHashMap<>(cfg.asMap());
        meta.put("model_id", lm.id());
        meta.put("created_at", Instant.now().toString());
        meta.put("demonstrations", Integer.toString(job.demos().size()));
        meta.put("train_loss", Double.toString(fit.crossEntropy()));
        meta.put("train_steps", Integer.toString(fit.steps()));
        spanTokens(cfg, job.demos()).ifPresent(n -> meta.put(Intervention.SPAN_TOKENS, n));
        if (fit.timeLimited()) {
            meta.put("time_limited", "true"); // laai.trainer.max-training-seconds ended it
        }
        meta.put("val_accuracy", Double.toString(valAccuracy));
        meta.put("val_loss", Double.toString(valLoss));
        meta.put("base_val_accuracy", Double.toString(baseAccuracy));
        meta.put("base_val_loss", Double.toString(baseLoss));
        if (job.previous() != null) {
            meta.put("previous_version", Long.toString(job.previous().version()));
            meta.put("previous_val_accuracy", Double.toString(previousAccuracy));
        }
        Intervention iv = new Intervention(job.task(), job.version(), cfg.site(), cfg.positions(), kept, lm.fingerprint(),
                c.hiddenSize(), c.numAttentionHeads(), c.headDim(), meta,
                cfg.condition() ? conditions.fit(job.demos(), cfg.conditionStrictness()) : null);
        return new TrainResult(iv, fit.crossEntropy(), fit.steps(), List.copyOf(p.layers), valAccuracy, baseAccuracy,
                valLoss, baseLoss, previousAccuracy, millis);
    }

    private static double fraction(boolean[] correct, int from, int n) {
        int k = 0;
        for (int i = from; i < from + n; i++) {
            k += correct[i] ? 1 : 0;
        }
        return (double) k / n;
    }

    /**
     * Refuses demonstrations the model cannot train on (too long for its context, no completion
     * tokens: IllegalArgumentException) and those whose one-row training step alone needs more than
     * {@code memoryBudget} bytes ({@link TooLarge}). Each demonstration is tokenized once.
     */
    public static void requireTrainable(LanguageModel lm, List<Demonstration> demos, long memoryBudget) {
        MemoryEstimate memory = new MemoryEstimate(lm.config());
        int[] lengths = EncodedBatch.lengths(lm, demos);
        for (int i = 0; i < lengths.length; i++) {
            long need = memory.trainingBytes(1, lengths[i]);
            if (need > memoryBudget) {
                throw new TooLarge("demonstrations[" + i + "] is " + lengths[i] + " tokens; training on it needs "
                        + MemoryEstimate.mib(need) + ", over laai.trainer.memory-budget " + MemoryEstimate.mib(memoryBudget));
            }
        }
    }

    private record Fold(List<Demonstration> train, List<Demonstration> test) {
    }

    /** Held-out accuracy and cross-entropy of one layer choice. */
    private record Score(List<Integer> layers, double accuracy, double loss) {
        boolean betterThan(Score o) {
            return accuracy > o.accuracy || (accuracy == o.accuracy && loss < o.loss);
        }
    }

    private List<Fold> folds(List<Demonstration> demos, TrainConfig cfg) {
        int n = demos.size();
        String mode = cfg.validation().equals("auto") ? (n < 6 ? "loo" : "split") : cfg.validation();
        List<Fold> folds = new ArrayList<>();
        if (mode.equals("none") || n < 2) {
            return folds;
        }
        if (mode.equals("loo")) {
            for (int i = 0; i < n; i++) {
                List<Demonstration> train = new ArrayList<>(demos);
                Demonstration held = train.remove(i);
                folds.add(new Fold(train, List.of(held)));
            }
            return folds;
        }
        List<Demonstration> shuffled = new ArrayList<>(demos);
        java.util.Collections.shuffle(shuffled, new Random(cfg.seed()));
        int test = Math.max(1, n / 5);
        folds.add(new Fold(shuffled.subList(test, n), shuffled.subList(0, test)));
        return folds;
    }

    /**
     * Every (job, layer candidate, fold) fit in one batched fit; then every fold's held-out
     * demonstrations under its own Δ in one batched generation; each job keeps its best candidate.
     */
    private void validate(List<Plan> plans, TrainingProgress cancellation, Conditions conditions) {
        List<DeltaFit.Problem> problems = new ArrayList<>();
        List<int[]> owners = new ArrayList<>(); // (plan, candidate, fold)
        for (int j = 0; j < plans.size(); j++) {
            Plan p = plans.get(j);
            if (p.folds.isEmpty()) {
                continue;
            }
            for (int c = 0; c < p.candidates.size(); c++) {
                List<Integer> layers = p.candidates.get(c);
                for (int f = 0; f < p.folds.size(); f++) {
                    problems.add(new DeltaFit.Problem(p.folds.get(f).train, layers, init(p.warmStart, layers), p.job.cfg(),
                            null));
                    owners.add(new int[] {j, c, f});
                }
            }
        }
        if (problems.isEmpty()) {
            return;
        }
        List<DeltaFit.Result> fits = DeltaFit.fitMany(lm, problems, cancellation, memoryBudget);
        List<Steering> steering = new ArrayList<>();
        List<Demonstration> items = new ArrayList<>();
        Map<Long, io.laai.intervention.Condition> foldConditions = new java.util.HashMap<>(); // (plan, fold) → its own
        for (int i = 0; i < problems.size(); i++) {
            int[] o = owners.get(i);
            Plan p = plans.get(o[0]);
            Intervention candidate = candidate(p, p.candidates.get(o[1]), fits.get(i).params(), p.folds.get(o[2]).train);
            if (p.job.cfg().condition()) {
                // Scored as it will be served: the fold's own condition decides where its Δ applies.
                candidate = candidate.withCondition(foldConditions.computeIfAbsent(o[0] * 1_000_000L + o[2],
                        k -> conditions.fit(p.folds.get(o[2]).train, p.job.cfg().conditionStrictness())));
            }
            Steering s = Composition.of(Map.of(candidate, 1.0));
            for (Demonstration d : p.folds.get(o[2]).test) {
                steering.add(s);
                items.add(d);
            }
        }
        boolean[] correct = Evaluator.correct(lm, steering, items, "");
        // Aggregate per (plan, candidate): correct items and summed held-out loss.
        Map<Long, double[]> totals = new LinkedHashMap<>(); // key plan*1e6+candidate → {correct, items, loss}
        int at = 0;
        for (int i = 0; i < problems.size(); i++) {
            int[] o = owners.get(i);
            Plan p = plans.get(o[0]);
            List<Integer> layers = p.candidates.get(o[1]);
            List<Demonstration> test = p.folds.get(o[2]).test;
            double[] t = totals.computeIfAbsent(o[0] * 1_000_000L + o[1], k -> new double[3]);
            for (int k = 0; k < test.size(); k++) {
                t[0] += correct[at++] ? 1 : 0;
            }
            t[1] += test.size();
            t[2] += DeltaFit.crossEntropy(lm, EncodedBatch.of(lm, test), layers, fits.get(i).params(),
                    p.job.cfg().positions(), p.job.cfg().site()) * test.size();
        }
        totals.forEach((key, t) -> {
            Plan p = plans.get((int) (key / 1_000_000L));
            List<Integer> layers = p.candidates.get((int) (key % 1_000_000L));
            Score s = new Score(layers, t[0] / t[1], t[2] / t[1]);
            if (p.chosen == null || s.betterThan(p.chosen)) {
                p.chosen = s;
            }
        });
    }

    /** span=completion: the longest demonstration's completion, in tokens; span=all: none. */
    private java.util.Optional<String> spanTokens(TrainConfig cfg, List<Demonstration> demos) {
        if (!cfg.span().equals("completion")) {
            return java.util.Optional.empty();
        }
        int n = demos.stream().mapToInt(d -> EncodedBatch.split(lm, d)[1].length).max().orElse(1);
        return java.util.Optional.of(Integer.toString(Math.max(1, n)));
    }

    private Intervention candidate(Plan p, List<Integer> layers, float[][] params, List<Demonstration> train) {
        TreeMap<Integer, float[]> deltas = new TreeMap<>();
        for (int i = 0; i < layers.size(); i++) {
            deltas.put(layers.get(i), params[i]);
        }
        ModelConfig c = lm.config();
        Map<String, String> meta = new LinkedHashMap<>();
        spanTokens(p.job.cfg(), train).ifPresent(n -> meta.put(Intervention.SPAN_TOKENS, n)); // scored as it will be served
        return new Intervention("validation", 0, p.job.cfg().site(), p.job.cfg().positions(), deltas, lm.fingerprint(),
                c.hiddenSize(), c.numAttentionHeads(), c.headDim(), meta);
    }

    private static float[][] init(Intervention warmStart, List<Integer> layers) {
        if (warmStart == null) {
            return null;
        }
        float[][] init = new float[layers.size()][];
        for (int i = 0; i < layers.size(); i++) {
            float[] v = warmStart.deltas().get(layers.get(i));
            init[i] = v == null ? null : v.clone();
        }
        return init;
    }
}
