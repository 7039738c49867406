package io.laai.cpu;

/**
 * Where keys and values lie in one layer's KV array: row × kv head × (column × head dim), so a
 * row's head is one contiguous run. Within it, heads of 32 values or more lie column by column (a
 * key is one run, for a kernel per key); smaller heads lie dimension by dimension ({@link
 * #keyMajor}: one dimension of every key is one run), so attention runs across keys, where a kernel
 * call per key of a few values would cost more than the key's work. The shared cache and a
 * cacheless pass (capacity = its tokens) use the same layout.
 *
 * <p>Key-major heads hold {@link #columns()} columns: the capacity rounded up to {@link #ALIGN}, so
 * the attention kernels run whole vectors past the last key without leaving the head's run (the
 * columns past it hold zeros or keys of an earlier request, finite either way, and weigh exactly 0).
 */
record KvLayout(int kvHeads, int headDim, int capacity, boolean keyMajor) {

    /** Key-major columns come in multiples of this: the widest float vector's lanes. */
    static final int ALIGN = Kernels.WIDEST_LANES;

    /** n rounded up to {@link #ALIGN}: the columns key-major kernels may run over for n keys. */
    static int padded(int n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** Columns a head holds: capacity, rounded up to {@link #ALIGN} when key-major. */
    int columns() {
        return keyMajor ? padded(capacity) : capacity;
    }

    /** Floats one layer's array holds for {@code rows} rows. */
    long size(int rows) {
        return (long) rows * kvHeads * columns() * headDim;
    }

    /** Whether heads of headDim values lie dimension by dimension by default. */
    static boolean keyMajor(int headDim) {
        return headDim < 32;
    }

    /** Where row's kv head h begins: its columns × head dim values follow. */
    int base(int row, int h) {
        return (row * kvHeads + h) * columns() * headDim;
    }

    /** Where column col's dimension 0 lies in row's kv head h; dimension i lies i·dimStride() further on. */
    int at(int row, int h, int col) {
        return base(row, h) + col * (keyMajor ? 1 : headDim);
    }

    int dimStride() {
        return keyMajor ? columns() : 1;
    }

    /** One key or value of headDim values from src[so…] into column col of row's head h in dst. */
    void store(float[] src, int so, float[] dst, int row, int h, int col) {
        int at = at(row, h, col);
        if (!keyMajor) {
            System.arraycopy(src, so, dst, at, headDim);
            return;
        }
        for (int i = 0; i < headDim; i++) {
            dst[at + i * dimStride()] = src[so + i];
        }
    }
}
