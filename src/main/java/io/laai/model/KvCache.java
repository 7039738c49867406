package io.laai.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values, preallocated to a fixed number of rows and columns (token slots) so a
 * generation never grows beyond them. Every row writes at the same column, {@link #length()}; a
 * forward pass may use only the first {@link #rows(int) rows}. Owns its manager: close it when
 * done.
 */
public final class KvCache extends CacheColumns {

    private final NDManager manager;
    private final NDArray[] keys;   // per layer (B, kvH, capacity, d)
    private final NDArray[] values; // per layer (B, kvH, capacity, d)

    public KvCache(NDManager parent, ModelConfig c, int batch, int capacity) {
        super(batch, capacity);
        this.manager = parent.newSubManager();
        this.keys = new NDArray[c.numHiddenLayers()];
        this.values = new NDArray[c.numHiddenLayers()];
        Shape shape = new Shape(batch, c.numKeyValueHeads(), capacity, c.headDim());
        for (int l = 0; l < keys.length; l++) {
            keys[l] = manager.zeros(shape, DataType.FLOAT32);
            values[l] = manager.zeros(shape, DataType.FLOAT32);
        }
    }

    /** Writes this step's k, v (rows, kvH, T, d) at the current length and returns all keys/values so far. */
    NDArray[] append(int layer, NDArray k, NDArray v) {
        int t = (int) k.getShape().get(2);
        int length = length();
        int rows = rowsInUse();
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + t + " > " + capacity);
        }
        String r = rows == batch ? ":" : "0:" + rows;
        NDIndex slot = new NDIndex(r + ", :, {}:{}", length, length + t);
        keys[layer].set(slot, k);
        values[layer].set(slot, v);
        NDIndex upTo = new NDIndex(r + ", :, :{}", length + t);
        return new NDArray[] {keys[layer].get(upTo), values[layer].get(upTo)};
    }

    @Override
    public void copyRow(Engine.Cache other, int row, int from, int to, int at, int n) {
        KvCache source = (KvCache) other;
        NDIndex src = new NDIndex("{}, :, {}:{}", row, from, from + n);
        NDIndex dst = new NDIndex("{}, :, {}:{}", to, at, at + n);
        try (NDScope scope = new NDScope()) { // the slices are temporaries
            for (int l = 0; l < keys.length; l++) {
                keys[l].set(dst, source.keys[l].get(src));
                values[l].set(dst, source.values[l].get(src));
            }
        }
    }

    @Override
    protected void moveColumns(int from, int n, int by) {
        NDIndex src = new NDIndex(":, :, {}:{}", from, from + n);
        NDIndex dst = new NDIndex(":, :, {}:{}", from + by, from + by + n);
        try (NDScope scope = new NDScope()) { // the slices and copies are temporaries
            for (int l = 0; l < keys.length; l++) {
                // A copy first: source and destination overlap.
                keys[l].set(dst, keys[l].get(src).duplicate());
                values[l].set(dst, values[l].get(src).duplicate());
            }
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
