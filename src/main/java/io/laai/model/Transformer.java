package io.laai.model;

import java.util.Map;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;

/**
 * The one forward pass of LAAI, used by training, evaluation and serving: a decoder-only
 * transformer (Llama family or GPT-2) over a left-padded batch, with an optional KV cache and
 * additive intervention hooks. Weights live in the model's manager for the model's lifetime;
 * every temporary is created inside the caller's NDScope.
 */
public final class Transformer implements AutoCloseable {

    /** Additive attention mask value: finite, so a fully masked padding row stays finite. */
    public static final float MASKED = -1e9f;

    private final ModelConfig c;
    private final DataType matrices;   // of the weight matrices (laai.dtype); everything else is float32
    private final NDManager manager;
    private final NDArray embed;       // (V, D)
    private final NDArray positions;   // (P, D) GPT-2 learned positions, else null
    private final NDArray lmHead;      // (V, D)
    private final NDArray finalNorm;   // (D)
    private final NDArray finalNormBias;
    private final Layer[] layers;
    private final NDArray ropeCos;     // (P, d) rotate-half layout: both halves repeat the frequencies
    private final NDArray ropeSin;     // (P, d)
    private final NDArray rotateHalf;  // (d, d): x @ R = cat(-x2, x1)
    // Constants as tensors that live as long as the model. DJL's arithmetic with a Number makes a
    // scalar tensor on Java memory and frees it right after the call; autograd keeps a reference
    // for backward, which then reads freed memory (seen as garbage gradients). Never use Number
    // arithmetic where gradients flow.
    private final NDArray attnScale;   // (1) 1/√d
    private final NDArray geluCubic;   // (1) 0.044715
    private final NDArray geluScale;   // (1) √(2/π)
    private final NDArray half;        // (1) 0.5
    private final NDArray one;         // (1) 1

    /** One block's weights, projections fused so a layer costs few native calls. */
    private record Layer(
            NDArray attnNorm, NDArray attnNormBias, // (D)
            NDArray qkv, NDArray qkvBias,           // ((H + 2kvH)·d, D), ((H + 2kvH)·d)
            NDArray o, NDArray oBias,               // (D, H·d)
            NDArray mlpNorm, NDArray mlpNormBias,   // (D)
            NDArray up, NDArray upBias,             // Llama: gate and up stacked (2F, D); GPT-2: c_fc (F, D)
            NDArray down, NDArray downBias) {       // (D, F)
    }

    public Transformer(ModelConfig c, Map<String, ? extends Weight> w, Device device) {
        this(c, w, device, DataType.FLOAT32);
    }

    /** matrices: the type the weight matrices are stored and multiplied in (laai.dtype); the rest stays float32. */
    public Transformer(ModelConfig c, Map<String, ? extends Weight> w, Device device, DataType matrices) {
        this.c = c;
        this.matrices = matrices;
        this.manager = NDManager.newBaseManager(device, "PyTorch");
        this.attnScale = scalar(1.0 / Math.sqrt(c.headDim()));
        this.geluCubic = scalar(0.044715);
        this.geluScale = scalar(Math.sqrt(2.0 / Math.PI));
        this.half = scalar(0.5);
        this.one = scalar(1.0);
        this.layers = new Layer[c.numHiddenLayers()];
        Weights weights = new Weights(w, manager, matrices);
        int d = c.hiddenSize();
        int f = c.intermediateSize();
        embed = weights.take(WeightNames.embed(c), c.vocabSize(), d);
        finalNorm = weights.take(WeightNames.finalNorm(c), d);
        if (c.family() == ModelConfig.Family.GPT2) {
            positions = weights.take(WeightNames.positions(c), -1, d);
            finalNormBias = weights.take(WeightNames.finalNormBias(c), d);
            for (int i = 0; i < layers.length; i++) {
                WeightNames.Layer n = WeightNames.layer(c, i);
                layers[i] = new Layer(weights.take(n.attnNorm(), d), weights.take(n.attnNormBias(), d),
                        weights.take(n.qkv().get(0), 3 * d, d), weights.take(n.qkvBias().get(0), 3 * d),
                        weights.take(n.o(), d, d), weights.take(n.oBias(), d),
                        weights.take(n.mlpNorm(), d), weights.take(n.mlpNormBias(), d),
                        weights.take(n.up().get(0), f, d), weights.take(n.upBias(), f),
                        weights.take(n.down(), d, f), weights.take(n.downBias(), d));
            }
            ropeCos = ropeSin = rotateHalf = null;
        } else {
            positions = null;
            finalNormBias = null;
            int qd = c.numAttentionHeads() * c.headDim();
            int kvd = c.numKeyValueHeads() * c.headDim();
            for (int i = 0; i < layers.length; i++) {
                WeightNames.Layer n = WeightNames.layer(c, i);
                NDArray qkvBias = n.qkvBias().isEmpty() ? null
                        : weights.stack(n.qkvBias().toArray(new String[0]), new int[] {qd, kvd, kvd}, 1);
                layers[i] = new Layer(weights.take(n.attnNorm(), d), null,
                        weights.stack(n.qkv().toArray(new String[0]), new int[] {qd, kvd, kvd}, d),
                        qkvBias, weights.take(n.o(), d, qd), null,
                        weights.take(n.mlpNorm(), d), null,
                        weights.stack(n.up().toArray(new String[0]), new int[] {f, f}, d), null,
                        weights.take(n.down(), d, f), null);
            }
            float[][] table = RopeTable.cosSin(c);
            int p = c.maxPositionEmbeddings();
            ropeCos = manager.create(table[0], new Shape(p, c.headDim()));
            ropeSin = manager.create(table[1], new Shape(p, c.headDim()));
            rotateHalf = manager.create(RopeTable.rotateHalfMatrix(c.headDim()), new Shape(c.headDim(), c.headDim()));
        }
        lmHead = WeightNames.tiedHead(c, w) ? embed : weights.take(WeightNames.LM_HEAD, c.vocabSize(), d);
    }

    public ModelConfig config() {
        return c;
    }

    public ai.djl.Device device() {
        return manager.getDevice();
    }

    public NDManager manager() {
        return manager;
    }

    /**
     * Logits for a batch.
     *
     * @param ids       (B, T) int64 token ids, left-padded
     * @param posIds    (B, T) int64 positions (padding counts none)
     * @param attnBias  (B, 1, T, L) additive mask: 0 where a query may see a key, a large negative elsewhere;
     *                  L = cache length after this step, or T without a cache
     * @param cache     null to attend within this call only
     * @param hooks     null for the unmodified model
     * @param lastOnly  logits for the last position only: (B, 1, V) instead of (B, T, V)
     */
    public NDArray forward(NDArray ids, NDArray posIds, NDArray attnBias, KvCache cache, Hooks hooks,
            boolean lastOnly) {
        long b = ids.getShape().get(0);
        long t = ids.getShape().get(1);
        NDArray x = embedding(ids, embed); // (B, T, D)
        NDArray cos = null;
        NDArray sin = null;
        if (positions != null) {
            x = x.add(embedding(posIds, positions));
        } else {
            cos = lookup(posIds, ropeCos).expandDims(2); // (B, T, 1, d)
            sin = lookup(posIds, ropeSin).expandDims(2);
        }
        for (int l = 0; l < layers.length; l++) {
            if (cache == null) {
                x = block(l, x, cos, sin, attnBias, null, hooks, b, t);
                continue;
            }
            // Inference: a layer's temporaries (attention scores above all) are freed before the next
            // layer runs, so a pass holds one layer's working memory, not every layer's. Training
            // (no cache) keeps them: backward needs them.
            try (NDScope scope = new NDScope()) {
                x = block(l, x, cos, sin, attnBias, cache, hooks, b, t);
                NDScope.unregister(x);
            }
            NDScope.register(x);
        }
        if (cache != null) {
            cache.advance((int) t);
        }
        if (lastOnly) {
            x = x.get(new NDIndex(":, -1:, :"));
        }
        return linear(norm(x, finalNorm, finalNormBias), lmHead, null); // (B, T or 1, V)
    }

    /** One transformer block: attention (with the cache when given), then the MLP, with the layer's hooks. */
    private NDArray block(int l, NDArray x, NDArray cos, NDArray sin, NDArray attnBias, KvCache cache, Hooks hooks, long b,
            long t) {
        int h = c.numAttentionHeads();
        int kvh = c.numKeyValueHeads();
        int hd = c.headDim();
        Layer layer = layers[l];
        NDArray a = norm(x, layer.attnNorm, layer.attnNormBias);
        NDArray qkv = linear(a, layer.qkv, layer.qkvBias); // (B, T, (H + 2kvH)·d)
        NDArray q;
        NDArray k;
        NDArray v;
        if (cos != null) {
            NDList parts = qkv.split(new long[] {(long) (h + kvh) * hd}, 2);
            NDArray qk = parts.get(0).reshape(b, t, h + kvh, hd);
            qk = qk.mul(cos).add(qk.matMul(rotateHalf).mul(sin)); // rotary on q and k at once
            NDList qks = qk.split(new long[] {h}, 2);
            q = qks.get(0).transpose(0, 2, 1, 3);                // (B, H, T, d)
            k = qks.get(1).transpose(0, 2, 1, 3);                // (B, kvH, T, d)
            v = parts.get(1).reshape(b, t, kvh, hd).transpose(0, 2, 1, 3);
        } else {
            NDArray heads = qkv.reshape(b, t, 3 * h, hd).transpose(0, 2, 1, 3); // (B, 3H, T, d)
            NDList qkvs = heads.split(3, 1);
            q = qkvs.get(0);
            k = qkvs.get(1);
            v = qkvs.get(2);
        }
        if (cache != null) {
            NDArray[] kv = cache.append(l, k, v); // (B, kvH, L, d)
            k = kv[0];
            v = kv[1];
        }
        // Grouped-query attention without copying K/V: the g = H/kvH query heads that share a
        // KV head are consecutive, so they fold into the query-length axis of that KV head.
        int g = h / kvh;
        long keys = k.getShape().get(2);
        NDArray scores = q.reshape(b, kvh, (long) g * t, hd).matMul(k.transpose(0, 1, 3, 2)) // (B, kvH, g·T, L)
                .mul(attnScale).reshape(b, kvh, g, t, keys).add(attnBias.expandDims(2));     // (B, kvH, g, T, L)
        NDArray attn = scores.softmax(-1).reshape(b, kvh, (long) g * t, keys).matMul(v)      // (B, kvH, g·T, d)
                .reshape(b, h, t, hd).transpose(0, 2, 1, 3).reshape(b, t, (long) h * hd);    // (B, T, H·d)
        if (hooks != null) {
            NDArray add = hooks.attnHeads(l);
            if (add != null) {
                attn = attn.add(add);
            }
        }
        x = x.add(linear(attn, layer.o, layer.oBias));
        NDArray m = norm(x, layer.mlpNorm, layer.mlpNormBias);
        x = x.add(linear(mlp(m, layer), layer.down, layer.downBias));
        if (hooks != null) {
            NDArray add = hooks.residual(l);
            if (add != null) {
                x = x.add(add);
            }
            hooks.observeResidual(l, x);
        }
        return x;
    }

    private NDArray mlp(NDArray m, Layer layer) {
        NDArray up = linear(m, layer.up, layer.upBias);
        if (c.family() == ModelConfig.Family.GPT2) {
            return geluTanh(up);
        }
        NDList gateUp = up.split(2, 2); // (B, T, F) each
        NDArray gate = gateUp.get(0);
        return gate.mul(Activation.sigmoid(gate)).mul(gateUp.get(1));
    }

    /** GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    private NDArray geluTanh(NDArray x) {
        NDArray inner = x.add(x.mul(x).mul(x).mul(geluCubic)).mul(geluScale);
        return x.mul(inner.tanh().add(one)).mul(half);
    }

    private NDArray scalar(double value) {
        return manager.create(new float[] {(float) value}, new Shape(1));
    }

    private NDArray norm(NDArray x, NDArray weight, NDArray bias) {
        if (c.family() == ModelConfig.Family.GPT2) {
            return x.getNDArrayInternal().layerNorm(x, new Shape(c.hiddenSize()), weight, bias, (float) c.normEps())
                    .singletonOrThrow();
        }
        NDArray rms = x.square().mean(new int[] {-1}, true).add((float) c.normEps()).sqrt();
        return x.div(rms).mul(weight);
    }

    /**
     * x·Wᵀ + b. A half-precision W multiplies x cast to its type, and the product returns to
     * float32. While gradients are recorded (training a Δ), W is cast up instead: DJL's cast of x
     * does not carry gradients (tested: training on f16/bf16 weights fails that way).
     */
    private NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        // Activations are float32; only the matrices may not be (asking a tensor its type is a JNI call).
        if (matrices == DataType.FLOAT32) {
            return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
        }
        if (ai.djl.pytorch.jni.JniUtils.isGradMode()) { // a GradientCollector is open
            NDArray w = weight.toType(DataType.FLOAT32, false);
            return x.getNDArrayInternal().linear(x, w, bias).singletonOrThrow();
        }
        NDArray h = x.toType(matrices, false);
        NDArray y = h.getNDArrayInternal().linear(h, weight, null).singletonOrThrow().toType(DataType.FLOAT32, false);
        return bias == null ? y : y.add(bias);
    }

    /** Rows of a weight table, as float32. */
    private NDArray embedding(NDArray ids, NDArray table) {
        NDArray e = lookup(ids, table);
        return matrices == DataType.FLOAT32 ? e : e.toType(DataType.FLOAT32, false);
    }

    private static NDArray lookup(NDArray ids, NDArray table) {
        return ids.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
    }

    /** Bytes of the weights on the device, by type (f32, f16, bf16), a tied head counted once. */
    public Map<String, Long> weightBytes() {
        return java.util.Collections.unmodifiableMap(weightBytes);
    }

    @Override
    public void close() {
        manager.close();
    }

    private final Map<String, Long> weightBytes = new java.util.TreeMap<>();

    /** Turns host tensors into device arrays, checking each shape against the config. */
    private final class Weights {
        private final Map<String, ? extends Weight> host;
        private final NDManager manager;
        private final DataType matrices;

        Weights(Map<String, ? extends Weight> host, NDManager manager, DataType matrices) {
            this.host = host;
            this.manager = manager;
            this.matrices = matrices;
        }

        /** Matrices go to the weight type; vectors (norms, biases) stay float32. */
        private NDArray place(float[] data, Shape shape) {
            NDArray a = manager.create(data, shape);
            if (shape.dimension() == 2 && matrices != DataType.FLOAT32) {
                NDArray h = a.toType(matrices, false);
                a.close();
                a = h;
            }
            weightBytes.merge(WeightType.name(a.getDataType()), a.size() * a.getDataType().getNumOfBytes(), Long::sum);
            return a;
        }

        /** The weight widened to float32 (one at a time, so a quantized model is never widened whole on the heap). */
        HostTensor get(String name, long... expected) {
            return Weight.require(host, name, expected).host();
        }

        NDArray take(String name, long... expected) {
            HostTensor t = get(name, expected);
            return place(t.data(), new Shape(t.shape()));
        }

        /** Concatenates rows of several weights ([rows_i, cols]) into one ([Σ rows_i, cols]). */
        NDArray stack(String[] names, int[] rows, int cols) {
            int total = 0;
            for (int r : rows) {
                total += r;
            }
            float[] out = new float[total * cols];
            int at = 0;
            for (int i = 0; i < names.length; i++) {
                HostTensor t = cols == 1 ? get(names[i], rows[i]) : get(names[i], rows[i], cols);
                System.arraycopy(t.data(), 0, out, at, t.data().length);
                at += t.data().length;
            }
            return place(out, cols == 1 ? new Shape(total) : new Shape(total, cols));
        }
    }
}
