package io.laai.cpu;

import io.laai.model.CacheColumns;
import io.laai.model.Engine;
import io.laai.model.ModelConfig;

/**
 * The Java engine's KV cache: per layer one float array, row × kv head × column × head dim, so a
 * row's head is one contiguous run of columns and moves with one array copy.
 */
final class CpuCache extends CacheColumns {

    final float[][] keys;
    final float[][] values;
    final int kvHeads;
    final int headDim;

    CpuCache(ModelConfig c, int batch, int capacity) {
        super(batch, capacity);
        this.kvHeads = c.numKeyValueHeads();
        this.headDim = c.headDim();
        long size = (long) batch * kvHeads * capacity * headDim;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a KV cache of " + batch + " rows x " + capacity
                    + " columns is too large for one layer's array; lower laai.edge.max-batch or laai.edge.kv-tokens");
        }
        this.keys = new float[c.numHiddenLayers()][(int) size];
        this.values = new float[c.numHiddenLayers()][(int) size];
    }

    /** Where row's kv head h, column col begins. */
    int at(int row, int h, int col) {
        return ((row * kvHeads + h) * capacity + col) * headDim;
    }

    @Override
    public void copyRow(Engine.Cache other, int row, int from, int to, int at, int n) {
        CpuCache source = (CpuCache) other;
        for (int l = 0; l < keys.length; l++) {
            for (int h = 0; h < kvHeads; h++) {
                System.arraycopy(source.keys[l], source.at(row, h, from), keys[l], at(to, h, at), n * headDim);
                System.arraycopy(source.values[l], source.at(row, h, from), values[l], at(to, h, at), n * headDim);
            }
        }
    }

    @Override
    protected void moveColumns(int from, int n, int by) {
        for (int l = 0; l < keys.length; l++) {
            for (int r = 0; r < batch; r++) {
                for (int h = 0; h < kvHeads; h++) {
                    // arraycopy copies as if through a temporary: overlapping runs are safe.
                    System.arraycopy(keys[l], at(r, h, from), keys[l], at(r, h, from + by), n * headDim);
                    System.arraycopy(values[l], at(r, h, from), values[l], at(r, h, from + by), n * headDim);
                }
            }
        }
    }

    @Override
    public void close() {
        // Heap arrays: nothing to free beyond dropping the reference.
    }
}
