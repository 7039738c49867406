package io.laai.cpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.laai.model.Engine;
import io.laai.model.MemoryEstimate;
import io.laai.model.ModelConfig;
import io.laai.model.RopeTable;
import io.laai.model.Steering;
import io.laai.model.Transformer;
import io.laai.model.Weight;
import io.laai.model.WeightNames;

/**
 * The Java engine: the model definition's forward pass (Llama family and GPT-2, as
 * {@link Transformer} computes it) executed by Java kernels on weights held in their file's
 * precision, with no native library. Matrix products and attention spread over the engine's own
 * threads; everything else runs on the caller's. Nothing it holds outlives it but heap arrays.
 */
public final class CpuEngine implements Engine {

    private record Layer(float[] attnNorm, float[] attnNormBias, Group qkv, float[] qkvBias, Group o, float[] oBias,
            float[] mlpNorm, float[] mlpNormBias, Group up, float[] upBias, Group down, float[] downBias) {
    }

    /**
     * Matrices multiplied together into one output of width Σ rows (q, k, v; gate, up), split
     * into parts of whole rows for the threads: many for a batch (the threads balance each other),
     * one a thread for a single vector, whose product streams each part's panels four at a time
     * (shorter streams lost what the four gained).
     */
    private record Group(Matrix[] ms, int[] offsets, int width, long macs, boolean interleaved, Parts batch, Parts single) {
        static Group of(int threads, Matrix... ms) {
            int[] offsets = new int[ms.length];
            int width = 0;
            long macs = 0;
            for (int i = 0; i < ms.length; i++) {
                offsets[i] = width;
                width += ms[i].rows;
                macs += (long) ms[i].rows * ms[i].cols;
            }
            return new Group(ms, offsets, width, macs, Arrays.stream(ms).anyMatch(Matrix::interleaved),
                    Parts.of(ms, width, threads * 8), Parts.of(ms, width, threads));
        }
    }

    /** Part p: rows [from[p], to[p]) of matrix[p]. */
    private record Parts(int[] matrix, int[] from, int[] to) {
        static Parts of(Matrix[] ms, int width, int count) {
            // parts start on panel boundaries (Matrix.PART_ALIGN)
            int a = Matrix.PART_ALIGN;
            int chunk = Math.max(a, ((width + count - 1) / count + a - 1) / a * a);
            List<int[]> parts = new ArrayList<>();
            for (int i = 0; i < ms.length; i++) {
                for (int r = 0; r < ms[i].rows; r += chunk) {
                    parts.add(new int[] {i, r, Math.min(ms[i].rows, r + chunk)});
                }
            }
            return new Parts(parts.stream().mapToInt(p -> p[0]).toArray(), parts.stream().mapToInt(p -> p[1]).toArray(),
                    parts.stream().mapToInt(p -> p[2]).toArray());
        }
    }

    private static final class CpuDeltas implements Deltas {
        final float[][] heads; // per layer, rows × H·d, or null
        final float[][] resid; // per layer, rows × D, or null

        CpuDeltas(float[][] heads, float[][] resid) {
            this.heads = heads;
            this.resid = resid;
        }

        @Override
        public void close() {
        }
    }

    private final ModelConfig c;
    private final boolean gpt2;
    private final Matrix embed;
    private final Matrix positions;
    private final Group lmHead;
    private final float[] finalNorm;
    private final float[] finalNormBias;
    private final Layer[] layers;
    private final float[] cos;
    private final float[] sin;
    private final Parallel parallel;
    private final ThreadLocal<float[]> scratch;
    /** The calling thread's batch, interleaved for the panels' kernels (grown as batches grow). */
    private final ThreadLocal<float[]> interleaved = ThreadLocal.withInitial(() -> new float[0]);
    private final Map<String, Long> bytesByType = new TreeMap<>();
    /** The KV layout of this engine's caches and cacheless passes (see {@link KvLayout}); tests set both. */
    private boolean keyMajor;

    /** Lays out the caches made from now on, and the cacheless passes, key-major or not (the tests hold both equal). */
    void keyMajor(boolean on) {
        this.keyMajor = on;
    }

    /** threads: how many the matrix products and attention may use (the CPUs the process may use, as a rule). */
    public CpuEngine(ModelConfig c, Map<String, ? extends Weight> w, int threads) {
        this.c = c;
        this.gpt2 = c.family() == ModelConfig.Family.GPT2;
        this.keyMajor = KvLayout.keyMajor(c.headDim());
        int d = c.hiddenSize();
        int hd = c.headDim();
        int qd = c.numAttentionHeads() * hd;
        int kvd = c.numKeyValueHeads() * hd;
        int f = c.intermediateSize();
        this.embed = matrix(w, WeightNames.embed(c), c.vocabSize(), d);
        this.positions = gpt2 ? matrix(w, WeightNames.positions(c), -1, d) : null;
        this.finalNorm = vector(w, WeightNames.finalNorm(c), d);
        this.finalNormBias = gpt2 ? vector(w, WeightNames.finalNormBias(c), d) : null;
        this.layers = new Layer[c.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            WeightNames.Layer n = WeightNames.layer(c, i);
            Matrix[] qkv = gpt2 ? new Matrix[] {matrix(w, n.qkv().get(0), 3 * d, d)}
                    : new Matrix[] {matrix(w, n.qkv().get(0), qd, d), matrix(w, n.qkv().get(1), kvd, d),
                            matrix(w, n.qkv().get(2), kvd, d)};
            float[] qkvBias = null;
            if (!n.qkvBias().isEmpty()) {
                int[] widths = gpt2 ? new int[] {3 * d} : new int[] {qd, kvd, kvd};
                qkvBias = new float[Arrays.stream(widths).sum()];
                int at = 0;
                for (int k = 0; k < widths.length; k++) {
                    float[] b = vector(w, n.qkvBias().get(k), widths[k]);
                    System.arraycopy(b, 0, qkvBias, at, b.length);
                    at += b.length;
                }
            }
            Matrix[] up = gpt2 ? new Matrix[] {matrix(w, n.up().get(0), f, d)}
                    : new Matrix[] {matrix(w, n.up().get(0), f, d), matrix(w, n.up().get(1), f, d)};
            layers[i] = new Layer(vector(w, n.attnNorm(), d), n.attnNormBias() == null ? null : vector(w, n.attnNormBias(), d),
                    Group.of(threads, qkv), qkvBias, Group.of(threads, matrix(w, n.o(), d, qd)),
                    n.oBias() == null ? null : vector(w, n.oBias(), d), vector(w, n.mlpNorm(), d),
                    n.mlpNormBias() == null ? null : vector(w, n.mlpNormBias(), d), Group.of(threads, up),
                    n.upBias() == null ? null : vector(w, n.upBias(), f), Group.of(threads, matrix(w, n.down(), d, f)),
                    n.downBias() == null ? null : vector(w, n.downBias(), d));
        }
        Matrix head = WeightNames.tiedHead(c, w) ? embed : matrix(w, WeightNames.LM_HEAD, c.vocabSize(), d);
        this.lmHead = Group.of(threads, head);
        if (gpt2) {
            cos = sin = null;
        } else {
            float[][] table = RopeTable.cosSin(c);
            cos = table[0];
            sin = table[1];
        }
        int widest = Math.max(Math.max(d, f), qd);
        this.scratch = ThreadLocal.withInitial(() -> new float[Matrix.scratchRows() * widest]);
        this.parallel = new Parallel(threads);
    }


    private Matrix matrix(Map<String, ? extends Weight> w, String name, long rows, long cols) {
        Matrix m = new Matrix(name, Weight.require(w, name, rows, cols));
        bytesByType.merge(m.type.name().toLowerCase(java.util.Locale.ROOT), m.bytes(), Long::sum);
        return m;
    }

    private float[] vector(Map<String, ? extends Weight> w, String name, long n) {
        float[] v = Weight.require(w, name, n).host().data();
        bytesByType.merge("f32", v.length * 4L, Long::sum);
        return v;
    }

    @Override
    public ModelConfig config() {
        return c;
    }

    /** The kernels in use: "vector (…)" or "scalar (why)". */
    public static String kernels() {
        return Kernels.get().name();
    }

    public int threads() {
        return parallel.threads();
    }

    @Override
    public Cache cache(int rows, int capacity) {
        return new CpuCache(c, rows, capacity, keyMajor);
    }

    @Override
    public Deltas deltas(List<Steering> rows) {
        int layerCount = c.numHiddenLayers();
        float[][] heads = new float[layerCount][];
        float[][] resid = new float[layerCount][];
        int headWidth = c.numAttentionHeads() * c.headDim();
        for (int l = 0; l < layerCount; l++) {
            heads[l] = Steering.stack(rows, l, headWidth, true);
            resid[l] = Steering.stack(rows, l, c.hiddenSize(), false);
        }
        return new CpuDeltas(heads, resid);
    }


    @Override
    public Logits forward(Batch in, Cache cache, Deltas deltas, Output output) {
        return forward(in, (CpuCache) cache, (CpuDeltas) deltas, output, null);
    }

    @Override
    public float[][] lastTokenResiduals(int[] ids) {
        int t = ids.length;
        long[] tokens = Arrays.stream(ids).asLongStream().toArray();
        long[] pos = new long[t];
        for (int i = 0; i < t; i++) {
            pos[i] = i;
        }
        boolean[][] valid = new boolean[1][t];
        Arrays.fill(valid[0], true);
        float[][] out = new float[c.numHiddenLayers()][];
        int d = c.hiddenSize();
        forward(new Batch(1, t, tokens, pos, io.laai.model.Generator.attentionBias(valid, t, 0, t), null), null, null,
                Output.ARGMAX_LAST, (layer, x) -> out[layer] = Arrays.copyOfRange(x, (t - 1) * d, t * d));
        return out;
    }

    private interface Observer {
        void layer(int layer, float[] hidden);
    }

    private Logits forward(Batch in, CpuCache cache, CpuDeltas deltas, Output output, Observer observer) {
        int b = in.rows();
        int t = in.tokens();
        int n = b * t;
        int d = c.hiddenSize();
        int h = c.numAttentionHeads();
        int kvh = c.numKeyValueHeads();
        int hd = c.headDim();
        int qd = h * hd;
        int kvd = kvh * hd;
        int width = qd + 2 * kvd;
        int f = c.intermediateSize();
        int past = cache == null ? 0 : cache.length();
        int keys = past + t;
        if (in.ids().length != n || in.positions().length != n || in.bias().length != (long) n * keys
                || (in.deltaMask() != null && in.deltaMask().length != n)) {
            throw new IllegalArgumentException("a batch of " + b + " x " + t + " over " + keys
                    + " keys does not match its arrays");
        }
        if (cache != null && (b > cache.rowsInUse() || keys > cache.capacity())) {
            throw new IllegalStateException("KV cache full: " + past + " + " + t + " > " + cache.capacity()
                    + " or " + b + " rows > " + cache.rowsInUse());
        }
        float[] x = new float[n * d];
        for (int v = 0; v < n; v++) {
            int id = (int) in.ids()[v];
            if (id < 0 || id >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
            embed.row(id, x, v * d);
            if (positions != null) {
                float[] p = new float[d];
                positions.row((int) in.positions()[v], p, 0);
                for (int i = 0; i < d; i++) {
                    x[v * d + i] += p[i];
                }
            }
        }
        float[] a = new float[n * d];
        float[] qkv = new float[n * width];
        float[] attn = new float[n * qd];
        float[] proj = new float[n * d];
        float[] up = new float[n * (gpt2 ? f : 2 * f)];
        float[] act = new float[n * f];
        // Without a cache, this pass's keys and values are the only ones, laid out as a cache of t columns.
        KvLayout kv = cache != null ? cache.layout : new KvLayout(kvh, hd, t, keyMajor);
        float[] ownKeys = cache == null ? new float[(int) kv.size(b)] : null;
        float[] ownValues = cache == null ? new float[(int) kv.size(b)] : null;
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            norm(x, a, n, layer.attnNorm, layer.attnNormBias);
            multiply(layer.qkv, a, n, qkv);
            addBias(qkv, n, layer.qkvBias);
            if (cos != null) {
                for (int v = 0; v < n; v++) {
                    int p = (int) in.positions()[v];
                    for (int head = 0; head < h + kvh; head++) {
                        rotate(qkv, v * width + head * hd, p * hd, hd);
                    }
                }
            }
            float[] kArr = cache != null ? cache.keys[l] : ownKeys;
            float[] vArr = cache != null ? cache.values[l] : ownValues;
            for (int r = 0; r < b; r++) {
                for (int j = 0; j < t; j++) {
                    int v = r * t + j;
                    for (int g = 0; g < kvh; g++) {
                        kv.store(qkv, v * width + qd + g * hd, kArr, r, g, past + j);
                        kv.store(qkv, v * width + qd + kvd + g * hd, vArr, r, g, past + j);
                    }
                }
            }
            attention(in, kv, kArr, vArr, qkv, attn, b, t, keys, width);
            if (deltas != null && deltas.heads[l] != null) {
                addDelta(attn, deltas.heads[l], in.deltaMask(), b, t, qd);
            }
            multiply(layer.o, attn, n, proj);
            addBias(proj, n, layer.oBias);
            for (int i = 0; i < n * d; i++) {
                x[i] += proj[i];
            }
            norm(x, a, n, layer.mlpNorm, layer.mlpNormBias);
            multiply(layer.up, a, n, up);
            addBias(up, n, layer.upBias);
            if (gpt2) {
                for (int i = 0; i < n * f; i++) {
                    act[i] = gelu(up[i]);
                }
            } else {
                parallel.forEachSmall(n, 4L * n * f, v -> Kernels.get().swiglu(up, v * 2 * f, v * 2 * f + f, act, v * f, f));
            }
            multiply(layer.down, act, n, proj);
            addBias(proj, n, layer.downBias);
            for (int i = 0; i < n * d; i++) {
                x[i] += proj[i];
            }
            if (deltas != null && deltas.resid[l] != null) {
                addDelta(x, deltas.resid[l], in.deltaMask(), b, t, d);
            }
            if (observer != null) {
                observer.layer(l, x);
            }
        }
        if (cache != null) {
            cache.advance(t);
        }
        int outRows = output == Output.ALL ? n : b;
        float[] last = new float[outRows * d];
        for (int r = 0; r < outRows; r++) {
            int v = output == Output.ALL ? r : r * t + t - 1;
            System.arraycopy(x, v * d, last, r * d, d);
        }
        float[] normed = new float[outRows * d];
        norm(last, normed, outRows, finalNorm, finalNormBias);
        int vocab = c.vocabSize();
        float[] logits = new float[outRows * vocab];
        multiply(lmHead, normed, outRows, logits);
        if (output != Output.ARGMAX_LAST) {
            return new Logits(null, logits);
        }
        int[] best = new int[b];
        parallel.forEachSmall(b, (long) b * vocab, r -> {
            int m = 0;
            for (int i = 1; i < vocab; i++) {
                if (logits[r * vocab + i] > logits[r * vocab + m]) {
                    m = i;
                }
            }
            best[r] = m;
        });
        return new Logits(best, null);
    }

    /** y (n × group width) = x (n × cols) · each matrix of the group, spread over the threads. */
    private void multiply(Group g, float[] x, int n, float[] y) {
        Parts parts = n == 1 ? g.single : g.batch;
        float[] xt = null;
        if (n > 1 && g.interleaved) {
            int cols = g.ms[0].cols;
            xt = interleaved.get();
            if (xt.length < n * cols) {
                xt = new float[n * cols];
                interleaved.set(xt);
            }
            Kernels.get().interleave(x, n, cols, xt);
        }
        float[] xi = xt;
        parallel.forEach(parts.matrix.length, g.macs * n, p -> {
            int m = parts.matrix[p];
            g.ms[m].multiply(x, xi, n, y, g.width, g.offsets[m], parts.from[p], parts.to[p], scratch.get());
        });
    }

    private static void addBias(float[] y, int n, float[] bias) {
        if (bias == null) {
            return;
        }
        int w = bias.length;
        for (int v = 0; v < n; v++) {
            for (int i = 0; i < w; i++) {
                y[v * w + i] += bias[i];
            }
        }
    }

    /** y[row, token] += mask[row, token] · delta[row] (mask null: every token). */
    private static void addDelta(float[] y, float[] delta, float[] mask, int b, int t, int w) {
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) {
                float m = mask == null ? 1f : mask[r * t + j];
                if (m == 0f) {
                    continue;
                }
                int at = (r * t + j) * w;
                for (int i = 0; i < w; i++) {
                    y[at + i] += m * delta[r * w + i];
                }
            }
        }
    }

    /** Rotate-half rotary on one head at x[at, at + hd), with the position's row of the tables at tab. */
    private void rotate(float[] x, int at, int tab, int hd) {
        int half = hd / 2;
        for (int i = 0; i < half; i++) {
            float x1 = x[at + i];
            float x2 = x[at + half + i];
            x[at + i] = x1 * cos[tab + i] + -x2 * sin[tab + i];
            x[at + half + i] = x2 * cos[tab + half + i] + x1 * sin[tab + half + i];
        }
    }

    /**
     * Scaled dot-product attention with the batch's additive mask, one (row, head) per part: a key
     * the mask hides is skipped (its weight would be exactly 0), and a query that sees no key at
     * all (left padding) gets zeros, not an average of hidden keys. Heads of 32 values or more take
     * a kernel per key; smaller ones lie key-major ({@link KvLayout}) and take a kernel
     * per dimension across all keys.
     */
    private void attention(Batch in, KvLayout kv, float[] kArr, float[] vArr, float[] qkv, float[] attn, int b, int t,
            int keys, int width) {
        int h = c.numAttentionHeads();
        int kvh = c.numKeyValueHeads();
        int hd = c.headDim();
        int group = h / kvh;
        int qd = h * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] bias = in.bias();
        long work = 2L * b * h * t * keys * hd;
        boolean keyMajor = kv.keyMajor();
        int dimStride = kv.dimStride();
        parallel.forEach(b * h, work, part -> {
            Kernels k = Kernels.get();
            int r = part / h;
            int head = part % h;
            int g = head / group;
            int base = kv.base(r, g);
            // key-major: whole vectors past the last key (KvLayout.columns), which weigh exactly 0
            int padded = keyMajor ? KvLayout.padded(keys) : keys;
            float[] scores = new float[padded];
            for (int j = 0; j < t; j++) {
                int v = r * t + j;
                int q = v * width + head * hd;
                int maskAt = v * keys;
                int out = v * qd + head * hd;
                if (keyMajor) {
                    // Branch-free across keys: a hidden key's score sinks by MASKED (-1e9), which
                    // exp turns into exactly 0, as skipping it would.
                    float top = k.scores(qkv, q, hd, kArr, base, dimStride, keys, padded, scale, bias, maskAt, scores);
                    if (top < -1e8f) {
                        Arrays.fill(attn, out, out + hd, 0f);
                        continue;
                    }
                    float inv = 1f / k.expSum(scores, padded, top);
                    for (int i = 0; i < hd; i++) {
                        attn[out + i] = k.dot(scores, 0, vArr, base + i * dimStride, padded) * inv;
                    }
                    continue;
                }
                float max = Float.NEGATIVE_INFINITY;
                for (int key = 0; key < keys; key++) {
                    float m = bias[maskAt + key];
                    if (m < -1e8f) {
                        scores[key] = Float.NEGATIVE_INFINITY;
                        continue;
                    }
                    float s = k.dot(qkv, q, kArr, base + key * hd, hd);
                    s = s * scale + m;
                    scores[key] = s;
                    max = Math.max(max, s);
                }
                Arrays.fill(attn, out, out + hd, 0f);
                if (max == Float.NEGATIVE_INFINITY) {
                    continue;
                }
                float sum = 0;
                for (int key = 0; key < keys; key++) {
                    float e = scores[key] == Float.NEGATIVE_INFINITY ? 0f : Kernels.exp(scores[key] - max);
                    scores[key] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                for (int key = 0; key < keys; key++) {
                    float p = scores[key];
                    if (p != 0f) {
                        k.axpy(p * inv, vArr, base + key * hd, attn, out, hd);
                    }
                }
            }
        });
    }

    /** RMSNorm (Llama) or LayerNorm (GPT-2) of each of the n rows of x into y. */
    private void norm(float[] x, float[] y, int n, float[] weight, float[] bias) {
        int d = c.hiddenSize();
        float eps = (float) c.normEps();
        parallel.forEachSmall(n, (long) n * d, v -> {
            int at = v * d;
            if (gpt2) {
                float mean = 0;
                for (int i = 0; i < d; i++) {
                    mean += x[at + i];
                }
                mean /= d;
                float var = 0;
                for (int i = 0; i < d; i++) {
                    float z = x[at + i] - mean;
                    var += z * z;
                }
                var /= d;
                float inv = (float) (1.0 / Math.sqrt(var + eps));
                for (int i = 0; i < d; i++) {
                    y[at + i] = (x[at + i] - mean) * inv * weight[i] + bias[i];
                }
            } else {
                float ss = 0;
                for (int i = 0; i < d; i++) {
                    ss += x[at + i] * x[at + i];
                }
                float rms = (float) Math.sqrt(ss / d + eps);
                for (int i = 0; i < d; i++) {
                    y[at + i] = x[at + i] / rms * weight[i];
                }
            }
        });
    }

    /** GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    private static float gelu(float x) {
        return (float) (0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))));
    }

    @Override
    public String describe() {
        StringBuilder s = new StringBuilder();
        bytesByType.forEach((type, bytes) -> s.append(s.length() == 0 ? "" : " + ").append(MemoryEstimate.mib(bytes))
                .append(' ').append(type));
        return s + " on cpu (java, " + Kernels.get().name() + ", " + parallel.threads() + " threads)";
    }

    @Override
    public void close() {
        parallel.close();
    }

    /** For tests: the types the matrices are held in, by name. */
    Map<String, String> matrixTypes() {
        Map<String, String> out = new TreeMap<>();
        out.put(embed.name, embed.type.name());
        for (Layer l : layers) {
            for (Group g : List.of(l.qkv, l.o, l.up, l.down)) {
                for (Matrix m : g.ms) {
                    out.put(m.name, m.type.name());
                }
            }
        }
        return out;
    }
}
