package io.laai.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
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
import io.laai.model.MemoryEstimate;

/**
 * Gradient descent on Δ for problems of a batch of demonstrations and a set of layers: Adam on the
 * completions' mean cross-entropy, then a proximal step for the lasso and group-lasso terms, which
 * sets components and whole groups to exact zeros. Keeps the Δ with the best objective; stops
 * early when the objective has not improved for {@code patience} steps, or as soon as the
 * cross-entropy reaches {@code target_loss}.
 */
final class DeltaFit {

    /** DJL allows one active GradientCollector per JVM: every fit in the process takes this lock. */
    static final ReentrantLock GRADIENTS = new ReentrantLock();

    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPS = 1e-8;
    private static final double MIN_IMPROVEMENT = 1e-4;

    /** A fitted Δ: params[i] belongs to layers.get(i). */
    record Result(float[][] params, double crossEntropy, double objective, int steps, int bestStep, boolean timeLimited) {
    }

    private DeltaFit() {
    }

    /**
     * One problem of a batched fit: demonstrations, the layers that get a Δ, an optional starting
     * point (init[i] for layers.get(i), null entries start at zero), the settings, and where its
     * steps are reported (null: nowhere).
     */
    record Problem(List<Demonstration> demos, List<Integer> layers, float[][] init, TrainConfig cfg,
            TrainingProgress reporter) {
    }

    static Result fit(LanguageModel lm, List<Demonstration> demos, List<Integer> layers, float[][] init, TrainConfig cfg,
            TrainingProgress progress) {
        return fitMany(lm, List.of(new Problem(demos, layers, init, cfg, progress)), progress).get(0);
    }

    /**
     * Fits independent problems in one batched forward and backward pass per step: every row adds
     * its own problem's Δ (a one-hot row-to-problem matrix times the stacked Δs), and the loss is the
     * sum of the problems' mean cross-entropies, so each Δ gets exactly its own problem's gradient.
     * Each problem keeps its own Adam state, best Δ and early stop, and reports its steps to its own
     * reporter. All problems share a site and a position rule. {@code cancellation}, when given,
     * stops them all.
     */
    static List<Result> fitMany(LanguageModel lm, List<Problem> problems, TrainingProgress cancellation) {
        return fitMany(lm, problems, cancellation, Long.MAX_VALUE);
    }

    /**
     * As above, within {@code memoryBudget} bytes a step: when the rows' forward and backward pass
     * would need more (MemoryEstimate.trainingBytes), they run in chunks of rows, each its own
     * forward and backward pass, and the gradients add up (the loss is a sum over rows, so the
     * result is the same up to rounding). {@code cancellation.outOfTime()} ends every fit after its
     * current step with its best Δ so far.
     */
    static List<Result> fitMany(LanguageModel lm, List<Problem> problems, TrainingProgress cancellation, long memoryBudget) {
        Site site = problems.get(0).cfg().site();
        Positions positions = problems.get(0).cfg().positions();
        for (Problem p : problems) {
            if (p.cfg().site() != site || p.cfg().positions() != positions) {
                throw new IllegalArgumentException("a batched fit needs one site and one position rule");
            }
        }
        int width = io.laai.intervention.Intervention.width(site, lm.config().hiddenSize(),
                lm.config().numAttentionHeads(), lm.config().headDim());
        int groupSize = site == Site.ATTN_HEADS ? lm.config().headDim() : width;
        int k = problems.size();
        State[] states = new State[k];
        int maxSteps = 0;
        for (int p = 0; p < k; p++) {
            states[p] = new State(problems.get(p), width);
            maxSteps = Math.max(maxSteps, problems.get(p).cfg().steps());
        }
        boolean anchored = problems.stream().anyMatch(p -> p.cfg().klWeight() > 0);
        GRADIENTS.lock();
        Rows rows = null;
        try (NDManager manager = lm.transformer().manager().newSubManager();
                GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            int active = k;
            for (int step = 1; step <= maxSteps && active > 0; step++) {
                if (cancellation != null && cancellation.cancelled()) {
                    throw new TrainingProgress.Cancelled();
                }
                if (step > 1 && cancellation != null && cancellation.outOfTime()) {
                    for (State st : states) {
                        st.timeLimited = !st.done;
                        st.done = true;
                    }
                    break;
                }
                if (rows == null || rows.problems != active || anchored) {
                    // Finished problems leave the batch: their rows would only cost time. Anchors rotate every step.
                    if (rows != null) {
                        rows.manager.close();
                    }
                    rows = Rows.of(lm, manager, states, positions, memoryBudget, step);
                }
                TreeMap<Integer, List<int[]>> users = rows.users;
                double[] ce = new double[k];
                double[] anchor = new double[k];
                for (int c = 0; c < rows.chunks.size(); c++) {
                    double[][] part = crossEntropyAndGradient(lm, manager, rows.chunks.get(c), users, states, width, site,
                            collector, k, c > 0);
                    for (int p = 0; p < k; p++) {
                        ce[p] += part[0][p];
                        anchor[p] += part[1][p];
                    }
                }
                for (int p = 0; p < k; p++) {
                    State st = states[p];
                    if (st.done) {
                        continue;
                    }
                    TrainConfig cfg = st.problem.cfg();
                    double objective = ce[p] + anchor[p] + penalty(st.params, cfg, groupSize);
                    if (!Double.isFinite(objective)) {
                        throw new TrainingDiverged("training diverged: the loss is " + objective + " at step " + step
                                + " (learning_rate " + cfg.learningRate() + " is too high?)");
                    }
                    if (st.problem.reporter() != null) {
                        st.problem.reporter().onStep(step, ce[p], objective);
                    }
                    st.steps = step;
                    if (objective < st.bestObjective - MIN_IMPROVEMENT * Math.max(1, Math.abs(st.bestObjective))
                            || st.bestStep == 0) {
                        st.bestObjective = objective;
                        st.bestCe = ce[p];
                        st.best = copy(st.params);
                        st.bestStep = step;
                        if (ce[p] <= cfg.targetLoss()) {
                            // Likely enough: a larger Δ would fit these demonstrations more tightly and new prompts worse.
                            st.done = true;
                            active--;
                            continue;
                        }
                    } else if (step - st.bestStep >= cfg.patience()) {
                        st.done = true;
                        active--;
                        continue;
                    }
                    if (step == cfg.steps()) {
                        st.done = true; // its last step was scored; no update would be
                        active--;
                        continue;
                    }
                    adamProximal(st.params, st.grads, st.m, st.v, step, cfg, groupSize);
                    for (float[] v : st.params) {
                        for (float x : v) {
                            if (!Float.isFinite(x)) {
                                throw new TrainingDiverged("training diverged: Δ overflowed at step " + step
                                        + " (learning_rate " + cfg.learningRate() + " is too high?)");
                            }
                        }
                    }
                }
            }
        } finally {
            if (rows != null) {
                rows.manager.close();
            }
            GRADIENTS.unlock();
        }
        List<Result> results = new ArrayList<>();
        for (State st : states) {
            results.add(new Result(st.best, st.bestCe, st.bestObjective, st.steps, st.bestStep, st.timeLimited));
        }
        return results;
    }

    /**
     * The rows of the problems still running, as tensors in a manager of their own: one chunk, or
     * several when one forward and backward pass over all of them would exceed the memory budget.
     */
    private record Rows(NDManager manager, List<Inputs> chunks, TreeMap<Integer, List<int[]>> users, int problems) {
        /** step picks the anchors: {@link Anchors#PER_STEP} of them, in turn. */
        static Rows of(LanguageModel lm, NDManager parent, State[] states, Positions positions, long memoryBudget,
                int step) {
            List<Demonstration> demos = new ArrayList<>();
            List<Integer> rowProblem = new ArrayList<>();
            List<Anchors.Anchor> rowAnchor = new ArrayList<>(); // null for a demonstration's row
            // For each layer, which (problem, parameter index) pairs have a Δ there.
            TreeMap<Integer, List<int[]>> users = new TreeMap<>();
            int problems = 0;
            for (int p = 0; p < states.length; p++) {
                if (states[p].done) {
                    continue;
                }
                problems++;
                for (Demonstration d : states[p].problem.demos()) {
                    demos.add(d);
                    rowProblem.add(p);
                    rowAnchor.add(null);
                }
                if (states[p].problem.cfg().klWeight() > 0) {
                    for (Anchors.Anchor a : Anchors.forStep(lm, step)) {
                        demos.add(a.demo());
                        rowProblem.add(p);
                        rowAnchor.add(a);
                    }
                }
                List<Integer> layers = states[p].problem.layers();
                for (int i = 0; i < layers.size(); i++) {
                    users.computeIfAbsent(layers.get(i), l -> new ArrayList<>()).add(new int[] {p, i});
                }
            }
            EncodedBatch all = EncodedBatch.of(lm, demos);
            int[] tokens = new int[states.length];
            int[] anchorTokens = new int[states.length];
            for (int r = 0; r < all.size; r++) {
                if (rowAnchor.get(r) == null) {
                    tokens[rowProblem.get(r)] += all.completionTokens[r];
                } else {
                    anchorTokens[rowProblem.get(r)] += all.completionTokens[r];
                }
            }
            double[] klWeight = new double[states.length];
            for (int p = 0; p < states.length; p++) {
                klWeight[p] = states[p].problem.cfg().klWeight();
            }
            int[] span = new int[states.length];
            for (int r = 0; r < all.size; r++) {
                int p = rowProblem.get(r);
                if (rowAnchor.get(r) == null) {
                    span[p] = Math.max(span[p], all.completionTokens[r]);
                }
            }
            for (int p = 0; p < states.length; p++) {
                span[p] = states[p].problem.cfg().span().equals("completion") ? span[p] : Integer.MAX_VALUE;
            }
            Weights weights = new Weights(tokens, anchorTokens, klWeight, span);
            NDManager m = parent.newSubManager();
            List<Inputs> chunks = new ArrayList<>();
            MemoryEstimate memory = new MemoryEstimate(lm.config());
            if (memory.trainingBytes(all.size, all.length) <= memoryBudget) {
                chunks.add(Inputs.of(m, all, positions, rowProblem.stream().mapToInt(Integer::intValue).toArray(),
                        weights, users, rowAnchor));
            } else {
                int[] lengths = all.rowLengths();
                int from = 0;
                while (from < demos.size()) {
                    int to = from + 1;
                    int longest = lengths[from];
                    while (to < demos.size() && memory.trainingBytes(to - from + 1L, Math.max(longest, lengths[to]))
                            <= memoryBudget) {
                        longest = Math.max(longest, lengths[to]);
                        to++;
                    }
                    chunks.add(Inputs.of(m, EncodedBatch.of(lm, demos.subList(from, to)), positions,
                            rowProblem.subList(from, to).stream().mapToInt(Integer::intValue).toArray(), weights, users,
                            rowAnchor.subList(from, to)));
                    from = to;
                }
            }
            return new Rows(m, chunks, users, problems);
        }
    }

    /** One problem's optimiser state inside a batched fit. */
    private static final class State {
        final Problem problem;
        final float[][] params;
        final float[][] grads;
        final double[][] m;
        final double[][] v;
        float[][] best;
        double bestObjective = Double.POSITIVE_INFINITY;
        double bestCe = Double.NaN;
        int bestStep;
        int steps;
        boolean done;
        boolean timeLimited;

        State(Problem problem, int width) {
            this.problem = problem;
            int n = problem.layers().size();
            params = new float[n][];
            for (int i = 0; i < n; i++) {
                float[] init = problem.init() == null ? null : problem.init()[i];
                params[i] = init != null ? init.clone() : new float[width];
            }
            grads = new float[n][];
            m = new double[n][width];
            v = new double[n][width];
            best = copy(params);
        }
    }

    /**
     * Each problem's mean cross-entropy of its completion tokens (nats) and its anchor term
     * (kl_weight × the mean cross-entropy of the base distribution under the steered model, on
     * the anchors; KL(base ‖ steered) plus the base entropy, a constant); fills every problem's grads.
     */
    private static double[][] crossEntropyAndGradient(LanguageModel lm, NDManager manager, Inputs in,
            TreeMap<Integer, List<int[]>> users, State[] states, int width, Site site, GradientCollector collector, int k,
            boolean accumulate) {
        try (NDScope scope = new NDScope()) {
            int numLayers = lm.config().numHiddenLayers();
            NDArray[] add = new NDArray[numLayers];
            java.util.Map<Integer, NDArray> stacked = new java.util.HashMap<>();
            for (var e : users.entrySet()) {
                List<int[]> u = e.getValue();
                float[] flat = new float[u.size() * width];
                for (int j = 0; j < u.size(); j++) {
                    System.arraycopy(states[u.get(j)[0]].params[u.get(j)[1]], 0, flat, j * width, width);
                }
                NDArray d = manager.create(flat, new Shape(u.size(), width));
                d.setRequiresGradient(true);
                stacked.put(e.getKey(), d);
                NDArray perRow = in.rowOneHot.get(e.getKey()).dot(d).expandDims(1); // (B, 1, width)
                add[e.getKey()] = in.deltaMask.mul(perRow);                          // (B, T, width)
            }
            NDArray[] perRow = rowLosses(lm, in, add, site);
            NDArray perRowLoss = perRow[1] == null ? perRow[0] : perRow[0].add(perRow[1]);
            NDArray loss = perRowLoss.sum();
            collector.backward(loss);
            for (var e : users.entrySet()) {
                float[] g = stacked.get(e.getKey()).getGradient().toFloatArray();
                List<int[]> u = e.getValue();
                for (int j = 0; j < u.size(); j++) {
                    float[] part = Arrays.copyOfRange(g, j * width, (j + 1) * width);
                    float[][] grads = states[u.get(j)[0]].grads;
                    int i = u.get(j)[1];
                    if (accumulate && grads[i] != null) {
                        for (int x = 0; x < width; x++) {
                            grads[i][x] += part[x];
                        }
                    } else {
                        grads[i] = part;
                    }
                }
            }
            float[] rowLoss = perRow[0].toFloatArray();
            float[] anchorLoss = perRow[1] == null ? new float[rowLoss.length] : perRow[1].toFloatArray();
            double[][] out = new double[2][k];
            for (int r = 0; r < rowLoss.length; r++) {
                out[0][in.rowProblem[r]] += rowLoss[r];
                out[1][in.rowProblem[r]] += anchorLoss[r];
            }
            return out;
        }
    }

    /**
     * Per row: −Σ log p(completion token) / (its problem's completion tokens), so rows sum to each
     * problem's mean; and, where the batch has anchor rows, their weighted cross-entropy of the base
     * distribution (else null).
     */
    private static NDArray[] rowLosses(LanguageModel lm, Inputs in, NDArray[] add, Site site) {
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
        NDArray all = logits.logSoftmax(-1);
        NDArray logp = all.gather(in.targets.expandDims(-1), -1).squeeze(-1);                     // (B, T)
        NDArray task = logp.mul(in.weights).sum(new int[] {1});
        if (in.anchorIds == null) {
            return new NDArray[] {task, null};
        }
        NDArray soft = all.gather(in.anchorIds, -1).mul(in.anchorWeights).sum(new int[] {1, 2});   // (B)
        return new NDArray[] {task, soft};
    }

    /** The same loss without gradients: held-out scoring. */
    static double crossEntropy(LanguageModel lm, EncodedBatch batch, List<Integer> layers, float[][] params,
            Positions positions, Site site) {
        int width = io.laai.intervention.Intervention.width(site, lm.config().hiddenSize(),
                lm.config().numAttentionHeads(), lm.config().headDim());
        try (NDManager manager = lm.transformer().manager().newSubManager(); NDScope scope = new NDScope()) {
            int total = 0;
            for (int r = 0; r < batch.size; r++) {
                total += batch.completionTokens[r];
            }
            Inputs in = Inputs.of(manager, batch, positions, new int[batch.size],
                    new Weights(new int[] {total}, new int[1], new double[1], new int[] {Integer.MAX_VALUE}), new TreeMap<>(),
                    null);
            NDArray[] add = new NDArray[lm.config().numHiddenLayers()];
            for (int i = 0; params != null && i < params.length; i++) {
                add[layers.get(i)] = in.deltaMask.mul(manager.create(params[i], new Shape(1, 1, width)));
            }
            return rowLosses(lm, in, add, site)[0].sum().getFloat();
        }
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
        NDArray weights;    // (B, T) -1/(the row's problem's completion tokens) where a completion token is predicted
        NDArray deltaMask;  // (B, T, 1)
        NDArray anchorIds;     // (B, T, K) the base model's top tokens at an anchor row's predicting positions, else null
        NDArray anchorWeights; // (B, T, K) −kl_weight × their probability / (the problem's anchor tokens); 0 elsewhere
        int[] rowProblem;
        java.util.Map<Integer, NDArray> rowOneHot = new java.util.HashMap<>(); // layer → (B, problems with a Δ there)

        /**
         * weights: each problem's completion and anchor tokens over all its rows, chunks included, so
         * weights average over them all. rowAnchor: each row's anchor, null for a demonstration (or no list).
         */
        static Inputs of(NDManager m, EncodedBatch b, Positions positions, int[] rowProblem, Weights w,
                TreeMap<Integer, List<int[]>> users, List<Anchors.Anchor> rowAnchor) {
            int[] tokens = w.tokens();
            Inputs in = new Inputs();
            int bs = b.size;
            int t = b.length;
            in.rowProblem = rowProblem;
            in.ids = m.create(b.ids, new Shape(bs, t));
            in.positions = m.create(b.positions, new Shape(bs, t));
            in.bias = m.create(Generator.attentionBias(b.valid, t, 0, t), new Shape(bs, 1, t, t));
            in.targets = m.create(b.targets, new Shape(bs, t));
            float[] weights = new float[bs * t];
            boolean anchors = rowAnchor != null && rowAnchor.stream().anyMatch(java.util.Objects::nonNull);
            int top = anchors ? rowAnchor.stream().filter(java.util.Objects::nonNull).findFirst().get().ids()[0].length : 0;
            long[] anchorIds = anchors ? new long[bs * t * top] : null;
            float[] anchorWeights = anchors ? new float[bs * t * top] : null;
            for (int r = 0; r < bs; r++) {
                Anchors.Anchor a = rowAnchor == null ? null : rowAnchor.get(r);
                int k = 0;
                for (int j = 0; j < t; j++) {
                    if (a == null) {
                        weights[r * t + j] = -b.predicts[r * t + j] / tokens[rowProblem[r]];
                    } else if (b.predicts[r * t + j] > 0) {
                        // The k-th predicting position predicts the k-th continuation token, as Anchors scored it.
                        double scale = -w.klWeight()[rowProblem[r]] / w.anchorTokens()[rowProblem[r]];
                        for (int x = 0; x < top; x++) {
                            anchorIds[(r * t + j) * top + x] = a.ids()[k][x];
                            anchorWeights[(r * t + j) * top + x] = (float) (scale * a.probs()[k][x]);
                        }
                        k++;
                    }
                }
            }
            in.weights = m.create(weights, new Shape(bs, t));
            if (anchors) {
                in.anchorIds = m.create(anchorIds, new Shape(bs, t, top));
                in.anchorWeights = m.create(anchorWeights, new Shape(bs, t, top));
            }
            float[] mask = positions == Positions.LAST ? b.predicts.clone() : new float[bs * t];
            if (positions == Positions.ALL) {
                for (int i = 0; i < bs; i++) {
                    for (int j = 0; j < t; j++) {
                        mask[i * t + j] = b.valid[i][j] ? 1f : 0f;
                    }
                }
            }
            for (int r = 0; r < bs; r++) {
                if (rowAnchor != null && rowAnchor.get(r) != null) {
                    // An anchor's continuation runs past the span: from there on, generation gives no Δ.
                    int k = 0;
                    for (int j = 0; j < t; j++) {
                        if (k >= w.span()[rowProblem[r]]) {
                            mask[r * t + j] = 0f;
                        }
                        k += b.predicts[r * t + j] > 0 ? 1 : 0;
                    }
                }
            }
            in.deltaMask = m.create(mask, new Shape(bs, t, 1));
            for (var e : users.entrySet()) {
                List<int[]> u = e.getValue();
                float[] oneHot = new float[bs * u.size()];
                for (int r = 0; r < bs; r++) {
                    for (int j = 0; j < u.size(); j++) {
                        oneHot[r * u.size() + j] = rowProblem[r] == u.get(j)[0] ? 1f : 0f;
                    }
                }
                in.rowOneHot.put(e.getKey(), m.create(oneHot, new Shape(bs, u.size())));
            }
            return in;
        }
    }

    /** Per problem: completion tokens, anchor tokens, and kl_weight, over all its rows. */
    /** span: per problem, the predicting positions of an anchor row that get Δ, as generation gives it (span setting). */
    private record Weights(int[] tokens, int[] anchorTokens, double[] klWeight, int[] span) {
    }

    /** The loss stopped being a number: a rejected outcome, never an artifact. */
    static final class TrainingDiverged extends IllegalArgumentException {
        TrainingDiverged(String message) {
            super(message);
        }
    }
}
