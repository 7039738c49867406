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
import io.laai.model.ModelConfig;

/**
 * Learns a task's intervention from demonstrations: validation (leave-one-out under six
 * demonstrations, else a held-out split) reports how the intervention and the base model do on
 * demonstrations they did not see; layer choice {@code auto} keeps the single layer that scores
 * best there; the final fit uses every demonstration; groups driven to zero are pruned.
 */
public final class Trainer {

    private final LanguageModel lm;

    public Trainer(LanguageModel lm) {
        this.lm = lm;
    }

    /**
     * Trains version {@code version} of a task. {@code previous}, the task's current version if
     * any, is the warm start (when its site and positions match) and is scored on the same held-out
     * demonstrations as the candidate, for the publish gate.
     */
    public TrainResult train(String task, long version, List<Demonstration> demos, TrainConfig cfg,
            Intervention previous, TrainingProgress progress) {
        long start = System.nanoTime();
        EncodedBatch all = EncodedBatch.of(lm, demos);
        ModelConfig c = lm.config();
        Intervention warmStart = previous;
        if (warmStart != null && (warmStart.site() != cfg.site() || warmStart.positions() != cfg.positions())) {
            warmStart = null; // a different site or position rule starts afresh
        }
        TrainingProgress quiet = progress == null ? null : progress.silent();
        List<Integer> layers = cfg.layerList(c.numHiddenLayers());
        List<Fold> folds = folds(demos, cfg);
        Score chosen = null;
        if (cfg.layers().equals("auto")) {
            for (int layer : layers) {
                Score s = validate(folds, List.of(layer), cfg, warmStart, quiet);
                if (chosen == null || s.betterThan(chosen)) {
                    chosen = s;
                }
            }
            layers = chosen.layers;
        } else if (!folds.isEmpty()) {
            chosen = validate(folds, layers, cfg, warmStart, quiet);
        }
        DeltaFit.Result fit = DeltaFit.fit(lm, all, layers, init(warmStart, layers), cfg, progress);
        double baseAccuracy = Double.NaN;
        double baseLoss = Double.NaN;
        double previousAccuracy = Double.NaN;
        if (!folds.isEmpty()) {
            List<Demonstration> heldOut = folds.stream().flatMap(f -> f.test.stream()).toList();
            baseAccuracy = Evaluator.accuracy(lm, io.laai.model.Steering.NONE, heldOut);
            baseLoss = DeltaFit.crossEntropy(lm, EncodedBatch.of(lm, heldOut), layers, null, cfg.positions(), cfg.site());
            if (previous != null) {
                previousAccuracy = Evaluator.accuracy(lm, Composition.of(Map.of(previous, 1.0)), heldOut);
            }
        }
        TreeMap<Integer, float[]> kept = new TreeMap<>();
        for (int i = 0; i < layers.size(); i++) {
            if (Intervention.norm(fit.params()[i]) > 0) {
                kept.put(layers.get(i), fit.params()[i]);
            }
        }
        Map<String, String> meta = new LinkedHashMap<>(cfg.asMap());
        meta.put("model_id", lm.id());
        meta.put("created_at", Instant.now().toString());
        meta.put("demonstrations", Integer.toString(demos.size()));
        meta.put("train_loss", Double.toString(fit.crossEntropy()));
        meta.put("train_steps", Integer.toString(fit.steps()));
        meta.put("val_accuracy", chosen == null ? "NaN" : Double.toString(chosen.accuracy));
        meta.put("val_loss", chosen == null ? "NaN" : Double.toString(chosen.loss));
        meta.put("base_val_accuracy", Double.toString(baseAccuracy));
        meta.put("base_val_loss", Double.toString(baseLoss));
        if (previous != null) {
            meta.put("previous_version", Long.toString(previous.version()));
            meta.put("previous_val_accuracy", Double.toString(previousAccuracy));
        }
        Intervention iv = new Intervention(task, version, cfg.site(), cfg.positions(), kept, lm.fingerprint(),
                c.hiddenSize(), c.numAttentionHeads(), c.headDim(), meta);
        return new TrainResult(iv, fit.crossEntropy(), fit.steps(), List.copyOf(layers),
                chosen == null ? Double.NaN : chosen.accuracy, baseAccuracy,
                chosen == null ? Double.NaN : chosen.loss, baseLoss, previousAccuracy, (System.nanoTime() - start) / 1_000_000);
    }

    /** Refuses demonstrations the model cannot train on (too long for its context, no completion tokens). */
    public static void requireTrainable(LanguageModel lm, List<Demonstration> demos) {
        for (Demonstration d : demos) {
            EncodedBatch.split(lm.tokenizer(), d, lm.config().maxPositionEmbeddings());
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

    private Score validate(List<Fold> folds, List<Integer> layers, TrainConfig cfg, Intervention warmStart,
            TrainingProgress progress) {
        if (folds.isEmpty()) {
            return new Score(layers, Double.NaN, Double.NaN);
        }
        int correct = 0;
        int items = 0;
        double loss = 0;
        for (Fold f : folds) {
            DeltaFit.Result r = DeltaFit.fit(lm, EncodedBatch.of(lm, f.train), layers, init(warmStart, layers), cfg, progress);
            TreeMap<Integer, float[]> deltas = new TreeMap<>();
            for (int i = 0; i < layers.size(); i++) {
                deltas.put(layers.get(i), r.params()[i]);
            }
            Intervention candidate = new Intervention("validation", 0, cfg.site(), cfg.positions(), deltas,
                    lm.fingerprint(), lm.config().hiddenSize(), lm.config().numAttentionHeads(), lm.config().headDim(),
                    Map.of());
            correct += Math.round(Evaluator.accuracy(lm, Composition.of(Map.of(candidate, 1.0)), f.test) * f.test.size());
            items += f.test.size();
            loss += DeltaFit.crossEntropy(lm, EncodedBatch.of(lm, f.test), layers, r.params(), cfg.positions(), cfg.site())
                    * f.test.size();
        }
        return new Score(layers, (double) correct / items, loss / items);
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
