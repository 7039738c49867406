package io.laai.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Per-request keys and values, preallocated to a fixed capacity so a generation never grows
 * beyond it. Owns its manager: close it when the request ends.
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final NDArray[] keys;   // per layer (B, kvH, capacity, d)
    private final NDArray[] values; // per layer (B, kvH, capacity, d)
    private final int capacity;
    private int length;

    public KvCache(NDManager parent, ModelConfig c, int batch, int capacity) {
        this.manager = parent.newSubManager();
        this.capacity = capacity;
        this.keys = new NDArray[c.numHiddenLayers()];
        this.values = new NDArray[c.numHiddenLayers()];
        Shape shape = new Shape(batch, c.numKeyValueHeads(), capacity, c.headDim());
        for (int l = 0; l < keys.length; l++) {
            keys[l] = manager.zeros(shape, DataType.FLOAT32);
            values[l] = manager.zeros(shape, DataType.FLOAT32);
        }
    }

    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Writes this step's k, v (B, kvH, T, d) at the current length and returns all keys/values so far. */
    NDArray[] append(int layer, NDArray k, NDArray v) {
        int t = (int) k.getShape().get(2);
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + t + " > " + capacity);
        }
        NDIndex slot = new NDIndex(":, :, {}:{}", length, length + t);
        keys[layer].set(slot, k);
        values[layer].set(slot, v);
        NDIndex upTo = new NDIndex(":, :, :{}", length + t);
        return new NDArray[] {keys[layer].get(upTo), values[layer].get(upTo)};
    }

    /** Called once per forward pass, after every layer has appended. */
    void advance(int t) {
        length += t;
    }

    @Override
    public void close() {
        manager.close();
    }
}
