package io.laai.model;

import java.util.Arrays;
import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * {@link Engine} on the DJL {@link Transformer}: each pass's tensors live in an NDScope closed
 * before it returns; a cache and a batch's Δ each own a sub-manager of the transformer's, closed
 * with them; only Java arrays leave.
 */
public final class DjlEngine implements Engine {

    private final Transformer transformer;

    public DjlEngine(Transformer transformer) {
        this.transformer = transformer;
    }

    public Transformer transformer() {
        return transformer;
    }

    @Override
    public ModelConfig config() {
        return transformer.config();
    }

    @Override
    public Cache cache(int rows, int capacity) {
        return new KvCache(transformer.manager(), transformer.config(), rows, capacity);
    }

    private static final class StackedDeltas implements Deltas {
        final NDManager manager;
        final RowDeltas deltas;

        StackedDeltas(NDManager manager, RowDeltas deltas) {
            this.manager = manager;
            this.deltas = deltas;
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    @Override
    public Deltas deltas(List<Steering> rows) {
        NDManager m = transformer.manager().newSubManager();
        try {
            return new StackedDeltas(m, RowDeltas.of(m, transformer.config(), rows));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    @Override
    public Logits forward(Batch in, Cache cache, Deltas deltas, Output output) {
        NDManager m = transformer.manager();
        int b = in.rows();
        int t = in.tokens();
        int keys = in.bias().length / (b * t);
        try (NDScope scope = new NDScope()) {
            Hooks hooks = deltas == null ? null : ((StackedDeltas) deltas).deltas.hooks(
                    in.deltaMask() == null ? null : m.create(in.deltaMask(), new Shape(b, t, 1)));
            NDArray logits = transformer.forward(m.create(in.ids(), new Shape(b, t)), m.create(in.positions(), new Shape(b, t)),
                    m.create(in.bias(), new Shape(b, 1, t, keys)), (KvCache) cache, hooks, output != Output.ALL);
            if (output == Output.ARGMAX_LAST) {
                return new Logits(Arrays.stream(logits.argMax(-1).toLongArray()).mapToInt(v -> (int) v).toArray(), null);
            }
            return new Logits(null, logits.toFloatArray());
        }
    }

    @Override
    public float[][] lastTokenResiduals(int[] ids) {
        int t = ids.length;
        float[][] out = new float[config().numHiddenLayers()][];
        boolean[][] valid = new boolean[1][t];
        Arrays.fill(valid[0], true);
        NDManager m = transformer.manager();
        try (NDScope scope = new NDScope()) {
            Hooks observe = new Hooks() {
                @Override
                public NDArray attnHeads(int layer) {
                    return null;
                }

                @Override
                public NDArray residual(int layer) {
                    return null;
                }

                @Override
                public void observeResidual(int layer, NDArray hidden) {
                    out[layer] = hidden.get(new NDIndex("0, -1, :")).toFloatArray();
                }
            };
            transformer.forward(m.create(Arrays.stream(ids).asLongStream().toArray(), new Shape(1, t)),
                    m.arange(0, t, 1, DataType.INT64).reshape(1, t),
                    m.create(Generator.attentionBias(valid, t, 0, t), new Shape(1, 1, t, t)), null, observe, true);
        }
        return out;
    }

    @Override
    public String describe() {
        return transformer.weightBytes().entrySet().stream()
                .map(e -> MemoryEstimate.mib(e.getValue()) + " " + e.getKey())
                .collect(java.util.stream.Collectors.joining(" + ")) + " on " + transformer.device() + " (djl)";
    }

    /** The transformer belongs to the model (training uses it too), which closes it. */
    @Override
    public void close() {
    }
}
