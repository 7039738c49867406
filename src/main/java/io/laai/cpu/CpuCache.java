package io.laai.cpu;

import io.laai.model.CacheColumns;
import io.laai.model.Engine;
import io.laai.model.ModelConfig;

/**
 * The Java engine's KV cache: per layer one float array, row × kv head × (column × head dim), so a
 * row's head is one contiguous run. Within it, heads of 32 values or more lie column by column (a
 * key is one run, for a kernel per key); smaller heads lie dimension by dimension ({@link
 * #keyMajor}: one dimension of every key is one run), so attention runs across keys, where a kernel
 * call per key of a few values would cost more than the key's work.
 */
final class CpuCache extends CacheColumns {

    final float[][] keys;
    final float[][] values;
    final int kvHeads;
    final int headDim;
    final boolean keyMajor;

    CpuCache(ModelConfig c, int batch, int capacity, boolean keyMajor) {
        super(batch, capacity);
        this.kvHeads = c.numKeyValueHeads();
        this.headDim = c.headDim();
        this.keyMajor = keyMajor;
        long size = (long) batch * kvHeads * capacity * headDim;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a KV cache of " + batch + " rows x " + capacity
                    + " columns is too large for one layer's array; lower laai.edge.max-batch or laai.edge.kv-tokens");
        }
        this.keys = new float[c.numHiddenLayers()][(int) size];
        this.values = new float[c.numHiddenLayers()][(int) size];
    }

    /** Whether heads of headDim values lie dimension by dimension by default (see the class comment). */
    static boolean keyMajor(int headDim) {
        return headDim < 32;
    }

    /** Where row's kv head h begins: its columns × head dim values follow. */
    int base(int row, int h) {
        return (row * kvHeads + h) * capacity * headDim;
    }

    /** Where column col's dimension 0 lies in row's kv head h; dimension i is dimStride() further on per i. */
    int at(int row, int h, int col) {
        return base(row, h) + col * (keyMajor ? 1 : headDim);
    }

    int dimStride() {
        return keyMajor ? capacity : 1;
    }

    @Override
    public void copyRow(Engine.Cache other, int row, int from, int to, int at, int n) {
        CpuCache source = (CpuCache) other;
        if (source.keyMajor != keyMajor) {
            throw new IllegalStateException("caches of two layouts (key-major and not) cannot exchange rows");
        }
        for (int l = 0; l < keys.length; l++) {
            for (int h = 0; h < kvHeads; h++) {
                copy(source.keys[l], source.at(row, h, from), source.dimStride(), keys[l], at(to, h, at), n);
                copy(source.values[l], source.at(row, h, from), source.dimStride(), values[l], at(to, h, at), n);
            }
        }
    }

    @Override
    protected void moveColumns(int from, int n, int by) {
        for (int l = 0; l < keys.length; l++) {
            for (int r = 0; r < batch; r++) {
                for (int h = 0; h < kvHeads; h++) {
                    copy(keys[l], at(r, h, from), dimStride(), keys[l], at(r, h, from + by), n);
                    copy(values[l], at(r, h, from), dimStride(), values[l], at(r, h, from + by), n);
                }
            }
        }
    }

    /**
     * n columns of one head from src (its own dimension stride) to dst at this cache's; arraycopy
     * copies as if through a temporary, so overlapping runs are safe.
     */
    private void copy(float[] src, int so, int srcDimStride, float[] dst, int at, int n) {
        if (!keyMajor) {
            System.arraycopy(src, so, dst, at, n * headDim);
            return;
        }
        for (int i = 0; i < headDim; i++) {
            System.arraycopy(src, so + i * srcDimStride, dst, at + i * capacity, n);
        }
    }

    @Override
    public void close() {
        // Heap arrays: nothing to free beyond dropping the reference.
    }
}
