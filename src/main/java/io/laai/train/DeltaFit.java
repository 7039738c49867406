package io.laai.train;

import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;
import io.laai.model.Generator;
import io.laai.model.Hooks;
import io.laai.model.LanguageModel;

/**
 * Gradient descent on Δ for one problem (a batch of demonstrations, a set of layers): Adam on the
 * completions' mean cross-entropy, then a proximal step for the lasso and group-lasso terms, which
 * sets components and whole groups to exact zeros. Keeps the Δ with the best objective; stops
 * early when the objective has not improved for {@code patience} steps.
 */
final class DeltaFit {

    /** DJL allows one active GradientCollector per JVM: every fit in the process takes this lock. */
    static final ReentrantLock GRADIENTS = new ReentrantLock();

    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPS = 1e-8;
    private static final double MIN_IMPROVEMENT = 1e-4;

    /** A fitted Δ: params[i] belongs to layers.get(i). */
    record Result(float[][] params, double crossEntropy, double objective, int steps, int bestStep) {
    }

    private DeltaFit() {
    }

    static Result fit(LanguageModel lm, EncodedBatch batch, List<Integer> layers, float[][] init, TrainConfig cfg,
            TrainingProgress progress) {
        int width = io.laai.intervention.Intervention.width(cfg.site(), lm.config().hiddenSize(),
                lm.config().numAttentionHeads(), lm.config().headDim());
        int groupSize = cfg.site() == Site.ATTN_HEADS ? lm.config().headDim() : width;
        float[][] params = new float[layers.size()][];
        for (int i = 0; i < params.length; i++) {
            params[i] = init != null && init[i] != null ? init[i].clone() : new float[width];
        }
        double[][] m = new double[params.length][width];
        double[][] v = new double[params.length][width];
        float[][] best = copy(params);
        double bestObjective = Double.POSITIVE_INFINITY;
        double bestCe = Double.NaN;
        int bestStep = 0;
        int step = 0;
        GRADIENTS.lock();
        try (NDManager manager = lm.transformer().manager().newSubManager();
                GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            Inputs in = Inputs.of(manager, batch, cfg.positions());
            float[][] grads = new float[params.length][];
            for (step = 1; step <= cfg.steps(); step++) {
                if (progress != null && progress.cancelled()) {
                    throw new TrainingProgress.Cancelled();
                }
                double ce = crossEntropyAndGradient(lm, manager, in, layers, params, grads, width, cfg.site(), collector);
                double objective = ce + penalty(params, cfg, groupSize);
                if (!Double.isFinite(objective)) {
                    throw new TrainingDiverged("training diverged: the loss is " + objective + " at step " + step
                            + " (learning_rate " + cfg.learningRate() + " is too high?)");
                }
                if (progress != null) {
                    progress.onStep(step, ce, objective);
                }
                if (objective < bestObjective - MIN_IMPROVEMENT * Math.max(1, Math.abs(bestObjective))
                        || bestStep == 0) {
                    bestObjective = objective;
                    bestCe = ce;
                    best = copy(params);
                    bestStep = step;
                } else if (step - bestStep >= cfg.patience()) {
                    break;
                }
                adamProximal(params, grads, m, v, step, cfg, groupSize);
                for (float[] p : params) {
                    for (float x : p) {
                        if (!Float.isFinite(x)) {
                            throw new TrainingDiverged("training diverged: Δ overflowed at step " + step
                                    + " (learning_rate " + cfg.learningRate() + " is too high?)");
                        }
                    }
                }
            }
        } finally {
            GRADIENTS.unlock();
        }
        return new Result(best, bestCe, bestObjective, Math.min(step, cfg.steps()), bestStep);
    }

    /** Mean cross-entropy of the completion tokens (nats) under params; fills grads. */
    private static double crossEntropyAndGradient(LanguageModel lm, NDManager manager, Inputs in, List<Integer> layers,
            float[][] params, float[][] grads, int width, Site site, GradientCollector collector) {
        try (NDScope scope = new NDScope()) {
            NDArray[] deltas = new NDArray[params.length];
            for (int i = 0; i < params.length; i++) {
                deltas[i] = manager.create(params[i], new Shape(1, 1, width));
                deltas[i].setRequiresGradient(true);
            }
            NDArray ce = crossEntropy(lm, in, layers, deltas, site);
            collector.backward(ce);
            for (int i = 0; i < params.length; i++) {
                grads[i] = deltas[i].getGradient().toFloatArray();
            }
            return ce.getFloat();
        }
    }

    /** The same loss without gradients: held-out scoring. */
    static double crossEntropy(LanguageModel lm, EncodedBatch batch, List<Integer> layers, float[][] params,
            Positions positions, Site site) {
        int width = io.laai.intervention.Intervention.width(site, lm.config().hiddenSize(),
                lm.config().numAttentionHeads(), lm.config().headDim());
        try (NDManager manager = lm.transformer().manager().newSubManager(); NDScope scope = new NDScope()) {
            Inputs in = Inputs.of(manager, batch, positions);
            NDArray[] deltas = new NDArray[params == null ? 0 : params.length];
            for (int i = 0; i < deltas.length; i++) {
                deltas[i] = manager.create(params[i], new Shape(1, 1, width));
            }
            return crossEntropy(lm, in, params == null ? List.of() : layers, deltas, site).getFloat();
        }
    }

    private static NDArray crossEntropy(LanguageModel lm, Inputs in, List<Integer> layers, NDArray[] deltas, Site site) {
        int numLayers = lm.config().numHiddenLayers();
        NDArray[] add = new NDArray[numLayers];
        for (int i = 0; i < deltas.length; i++) {
            add[layers.get(i)] = in.deltaMask.mul(deltas[i]); // (B, T, width)
        }
        Hooks hooks = new Hooks() {
            @Override
            public NDArray attnHeads(int layer) {
                return site == Site.ATTN_HEADS ? add[layer] : null;
            }

            @Override
            public NDArray residual(int layer) {
                return site == Site.RESIDUAL ? add[layer] : null;
            }
        };
        NDArray logits = lm.transformer().forward(in.ids, in.positions, in.bias, null, hooks, false); // (B, T, V)
        NDArray logp = logits.logSoftmax(-1).gather(in.targets.expandDims(-1), -1).squeeze(-1);   // (B, T)
        return logp.mul(in.predicts).sum().mul(in.negInverseTokens);
    }

    private static double penalty(float[][] params, TrainConfig cfg, int groupSize) {
        double l1 = 0;
        double group = 0;
        for (float[] p : params) {
            for (float x : p) {
                l1 += Math.abs(x);
            }
            for (int g = 0; g < p.length; g += groupSize) {
                double s = 0;
                for (int j = g; j < g + groupSize; j++) {
                    s += (double) p[j] * p[j];
                }
                group += Math.sqrt(s);
            }
        }
        return cfg.lambda1() * l1 + cfg.lambda2() * group;
    }

    /**
     * One Adam step on the cross-entropy, then the proximal operators of both penalties, scaled
     * by Adam's per-coordinate step size (a preconditioned proximal step). Scaling matters: Adam
     * normalises small gradients up, so an unscaled threshold would never zero a group; scaled, a
     * group reaches zero exactly when its loss gradient is weaker than the penalty, as at the optimum.
     */
    private static void adamProximal(float[][] params, float[][] grads, double[][] m, double[][] v, int step,
            TrainConfig cfg, int groupSize) {
        double lr = cfg.learningRate();
        double c1 = 1 - Math.pow(BETA1, step);
        double c2 = 1 - Math.pow(BETA2, step);
        for (int i = 0; i < params.length; i++) {
            float[] p = params[i];
            double[] rate = new double[p.length];
            for (int j = 0; j < p.length; j++) {
                m[i][j] = BETA1 * m[i][j] + (1 - BETA1) * grads[i][j];
                v[i][j] = BETA2 * v[i][j] + (1 - BETA2) * grads[i][j] * grads[i][j];
                rate[j] = lr / (Math.sqrt(v[i][j] / c2) + EPS);
                double x = p[j] - rate[j] * (m[i][j] / c1);
                p[j] = (float) (Math.signum(x) * Math.max(0, Math.abs(x) - rate[j] * cfg.lambda1()));
            }
            for (int g = 0; g < p.length; g += groupSize) {
                double s = 0;
                double meanRate = 0;
                for (int j = g; j < g + groupSize; j++) {
                    s += (double) p[j] * p[j];
                    meanRate += rate[j] / groupSize;
                }
                double norm = Math.sqrt(s);
                double threshold = meanRate * cfg.lambda2();
                double keep = norm <= threshold ? 0 : 1 - threshold / norm;
                for (int j = g; j < g + groupSize; j++) {
                    p[j] = (float) (p[j] * keep);
                }
            }
        }
    }

    private static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    /** The batch's fixed tensors, made once per fit. */
    private static final class Inputs {
        NDArray ids;        // (B, T)
        NDArray positions;  // (B, T)
        NDArray bias;       // (B, 1, T, T)
        NDArray targets;    // (B, T)
        NDArray predicts;   // (B, T)
        NDArray deltaMask;  // (B, T, 1)
        NDArray negInverseTokens; // (1) -1/Σ completion tokens; a tensor, see Transformer's constants

        static Inputs of(NDManager m, EncodedBatch b, Positions positions) {
            Inputs in = new Inputs();
            int bs = b.size;
            int t = b.length;
            in.ids = m.create(b.ids, new Shape(bs, t));
            in.positions = m.create(b.positions, new Shape(bs, t));
            in.bias = m.create(Generator.attentionBias(b.valid, t, 0, t), new Shape(bs, 1, t, t));
            in.targets = m.create(b.targets, new Shape(bs, t));
            in.predicts = m.create(b.predicts, new Shape(bs, t));
            float[] mask = positions == Positions.LAST ? b.predicts.clone() : new float[bs * t];
            if (positions == Positions.ALL) {
                for (int i = 0; i < bs; i++) {
                    for (int j = 0; j < t; j++) {
                        mask[i * t + j] = b.valid[i][j] ? 1f : 0f;
                    }
                }
            }
            in.deltaMask = m.create(mask, new Shape(bs, t, 1));
            in.negInverseTokens = m.create(new float[] {-1f / b.tokens}, new Shape(1));
            return in;
        }
    }

    /** The loss stopped being a number: a rejected outcome, never an artifact. */
    static final class TrainingDiverged extends IllegalArgumentException {
        TrainingDiverged(String message) {
            super(message);
        }
    }
}
