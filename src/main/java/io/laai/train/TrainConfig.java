package io.laai.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.laai.intervention.Positions;
import io.laai.intervention.Site;

/**
 * Hyperparameters of the method, with defaults chosen from measurements (README, "Training").
 *
 * @param layers      "all" (joint, sparsity decides), "auto" (best single layer on held-out
 *                    demonstrations) or a comma-separated list of layer indices
 * @param steps       most Adam steps per fit; early stopping usually ends sooner
 * @param lambda1     L1 (lasso) weight on every Δ component
 * @param lambda2     group-lasso weight on each head's (attn_heads) or layer's (residual) Δ
 * @param patience    steps without a better objective before stopping
 * @param validation  "auto" (leave-one-out under 6 demonstrations, else a 20% split), "loo", "split" or "none"
 * @param klWeight    weight of KL(base ‖ steered) on unrelated anchor text (see {@link Anchors}); 0 leaves it out
 * @param condition   whether the intervention applies only to prompts like its demonstrations' (see {@link Conditions})
 * @param targetLoss  a fit stops once its completions' mean cross-entropy (nats/token) is at most this; 0: never
 * @param span        "completion": Δ steers as many generated tokens as the longest demonstration's completion has,
 *                    then the base model goes on; "all": every generated token
 * @param conditionStrictness where the condition's threshold lies, from the most similar anchor text (0) to the
 *                    least similar demonstration (1)
 */
public record TrainConfig(Site site, Positions positions, String layers, int steps, double learningRate,
        double lambda1, double lambda2, int patience, long seed, String validation, double klWeight, boolean condition,
        double targetLoss, String span, double conditionStrictness) {

    /**
     * Measured on stories260K and aidreams260K over four task families (README, "Training"): the
     * most accurate settings measured with the condition on, which keeps unrelated text unchanged.
     */
    public static final TrainConfig DEFAULTS = new TrainConfig(Site.RESIDUAL, Positions.LAST, "all", 200, 0.1,
            1e-4, 1e-2, 20, 0, "auto", 0, true, 0.05, "completion", 0.25);


    public TrainConfig {
        if (steps < 1 || steps > 100_000) {
            throw new IllegalArgumentException("steps must be in [1, 100000], was " + steps);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning_rate must be a positive number, was " + learningRate);
        }
        if (!(lambda1 >= 0) || !(lambda2 >= 0) || Double.isInfinite(lambda1) || Double.isInfinite(lambda2)) {
            throw new IllegalArgumentException("lambda1 and lambda2 must be finite and >= 0");
        }
        if (!(klWeight >= 0) || Double.isInfinite(klWeight)) {
            throw new IllegalArgumentException("kl_weight must be finite and >= 0, was " + klWeight);
        }
        if (!(targetLoss >= 0) || Double.isInfinite(targetLoss)) {
            throw new IllegalArgumentException("target_loss must be finite and >= 0, was " + targetLoss);
        }
        span = span.trim().toLowerCase(Locale.ROOT);
        if (!span.equals("completion") && !span.equals("all")) {
            throw new IllegalArgumentException("span '" + span + "' is not completion or all");
        }
        if (!(conditionStrictness >= 0 && conditionStrictness <= 1)) {
            throw new IllegalArgumentException("condition_strictness must be in [0, 1], was " + conditionStrictness);
        }
        if (patience < 1) {
            throw new IllegalArgumentException("patience must be at least 1, was " + patience);
        }
        validation = validation.toLowerCase(Locale.ROOT);
        if (!List.of("auto", "loo", "split", "none").contains(validation)) {
            throw new IllegalArgumentException("validation '" + validation + "' is not one of auto, loo, split, none");
        }
        layers = layers.trim().toLowerCase(Locale.ROOT);
        if (!layers.equals("all") && !layers.equals("auto") && !layers.matches("\\d+(\\s*,\\s*\\d+)*")) {
            throw new IllegalArgumentException("layers '" + layers + "' is not all, auto or a list like 1,3");
        }
        if (layers.equals("auto") && validation.equals("none")) {
            throw new IllegalArgumentException("layers auto picks the layer by held-out score, so validation cannot be none");
        }
    }

    /** Refuses settings over the server's maxima (laai.trainer.max-steps, max-patience), naming the limit. */
    public TrainConfig within(int maxSteps, int maxPatience) {
        if (steps > maxSteps) {
            throw new IllegalArgumentException("steps " + steps + " is over this server's limit of " + maxSteps
                    + " (laai.trainer.max-steps)");
        }
        if (patience > maxPatience) {
            throw new IllegalArgumentException("patience " + patience + " is over this server's limit of " + maxPatience
                    + " (laai.trainer.max-patience)");
        }
        return this;
    }

    /** The layers a joint fit uses, checked against the model. */
    public List<Integer> layerList(int numLayers) {
        List<Integer> out = new ArrayList<>();
        if (layers.equals("all") || layers.equals("auto")) {
            for (int l = 0; l < numLayers; l++) {
                out.add(l);
            }
            return out;
        }
        for (String part : layers.split(",")) {
            int l = Integer.parseInt(part.trim());
            if (l >= numLayers) {
                throw new IllegalArgumentException("layer " + l + " does not exist: the model has " + numLayers
                        + " layers (0.." + (numLayers - 1) + ")");
            }
            if (!out.contains(l)) {
                out.add(l);
            }
        }
        return out;
    }

    /** Overrides from a demonstration batch's "config" object or the command line; unknown keys are refused. */
    public TrainConfig with(Map<String, String> overrides) {
        Map<String, String> v = new LinkedHashMap<>(asMap());
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!v.containsKey(e.getKey())) {
                throw new IllegalArgumentException("unknown training setting '" + e.getKey() + "' (known: "
                        + String.join(", ", v.keySet()) + ")");
            }
            v.put(e.getKey(), e.getValue());
        }
        String condition = v.get("condition").trim().toLowerCase(Locale.ROOT);
        if (!condition.equals("true") && !condition.equals("false")) {
            throw new IllegalArgumentException("training setting condition='" + v.get("condition") + "' is not true or false");
        }
        try {
            return new TrainConfig(Site.parse(v.get("site")), Positions.parse(v.get("positions")), v.get("layers"),
                    Integer.parseInt(v.get("steps")), Double.parseDouble(v.get("learning_rate")),
                    Double.parseDouble(v.get("lambda1")), Double.parseDouble(v.get("lambda2")),
                    Integer.parseInt(v.get("patience")), Long.parseLong(v.get("seed")), v.get("validation"),
                    Double.parseDouble(v.get("kl_weight")), condition.equals("true"),
                    Double.parseDouble(v.get("target_loss")), v.get("span"),
                    Double.parseDouble(v.get("condition_strictness")));
        } catch (NumberFormatException e) {
            String key = java.util.stream.Stream.of("steps", "learning_rate", "lambda1", "lambda2", "patience", "seed",
                    "kl_weight", "target_loss", "condition_strictness").filter(k -> !isNumber(v.get(k),
                            !java.util.Set.of("learning_rate", "lambda1", "lambda2", "kl_weight", "target_loss",
                                    "condition_strictness").contains(k)))
                    .findFirst().orElse("steps");
            throw new IllegalArgumentException("training setting " + key + "='" + v.get(key) + "' is not a number");
        }
    }

    /** The settings under their README names (the Training table); recorded in every artifact's metadata. */
    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("site", site.id());
        m.put("positions", positions.id());
        m.put("layers", layers);
        m.put("steps", Integer.toString(steps));
        m.put("learning_rate", Double.toString(learningRate));
        m.put("lambda1", Double.toString(lambda1));
        m.put("lambda2", Double.toString(lambda2));
        m.put("patience", Integer.toString(patience));
        m.put("seed", Long.toString(seed));
        m.put("validation", validation);
        m.put("kl_weight", Double.toString(klWeight));
        m.put("condition", Boolean.toString(condition));
        m.put("target_loss", Double.toString(targetLoss));
        m.put("span", span);
        m.put("condition_strictness", Double.toString(conditionStrictness));
        return m;
    }

    private static boolean isNumber(String s, boolean integer) {
        try {
            if (integer) {
                Long.parseLong(s);
            } else {
                Double.parseDouble(s);
            }
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
