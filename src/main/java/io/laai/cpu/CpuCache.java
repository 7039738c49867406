package io.laai.cpu;

import io.laai.model.CacheColumns;
import io.laai.model.Engine;
import io.laai.model.ModelConfig;

/**
 * The Java engine's KV cache: per layer one float array for keys and one for values, laid out as
 * {@link #layout} says.
 */
final class CpuCache extends CacheColumns {

    final float[][] keys;
    final float[][] values;
    final int kvHeads;
    final int headDim;
    final KvLayout layout;

    CpuCache(ModelConfig c, int batch, int capacity, boolean keyMajor) {
        super(batch, capacity);
        this.kvHeads = c.numKeyValueHeads();
        this.headDim = c.headDim();
        this.layout = new KvLayout(kvHeads, headDim, capacity, keyMajor);
        long size = layout.size(batch);
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a KV cache of " + batch + " rows x " + capacity
                    + " columns is too large for one layer's array; lower laai.edge.max-batch or laai.edge.kv-tokens");
        }
        this.keys = new float[c.numHiddenLayers()][(int) size];
        this.values = new float[c.numHiddenLayers()][(int) size];
    }

    @Override
    public void copyRow(Engine.Cache other, int row, int from, int to, int at, int n) {
        CpuCache source = (CpuCache) other;
        if (source.layout.keyMajor() != layout.keyMajor()) {
            throw new IllegalStateException("caches of two layouts (key-major and not) cannot exchange rows");
        }
        for (int l = 0; l < keys.length; l++) {
            for (int h = 0; h < kvHeads; h++) {
                copy(source.keys[l], source.layout.at(row, h, from), source.layout.dimStride(), keys[l],
                        layout.at(to, h, at), n);
                copy(source.values[l], source.layout.at(row, h, from), source.layout.dimStride(), values[l],
                        layout.at(to, h, at), n);
            }
        }
    }

    @Override
    protected void moveColumns(int from, int n, int by) {
        for (int l = 0; l < keys.length; l++) {
            for (int r = 0; r < batch; r++) {
                for (int h = 0; h < kvHeads; h++) {
                    copy(keys[l], layout.at(r, h, from), layout.dimStride(), keys[l], layout.at(r, h, from + by), n);
                    copy(values[l], layout.at(r, h, from), layout.dimStride(), values[l], layout.at(r, h, from + by), n);
                }
            }
        }
    }

    /**
     * n columns of one head from src (its own dimension stride) to dst at this cache's; arraycopy
     * copies as if through a temporary, so overlapping runs are safe.
     */
    private void copy(float[] src, int so, int srcDimStride, float[] dst, int at, int n) {
        if (!layout.keyMajor()) {
            System.arraycopy(src, so, dst, at, n * headDim);
            return;
        }
        for (int i = 0; i < headDim; i++) {
            System.arraycopy(src, so + i * srcDimStride, dst, at + i * layout.dimStride(), n);
        }
    }

    @Override
    public void close() {
        // Heap arrays: nothing to free beyond dropping the reference.
    }
}
