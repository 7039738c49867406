package io.laai.model;

/**
 * The column bookkeeping both engines' KV caches share: a fixed number of rows and columns
 * (token slots), every row writing at the same column {@link #length()}, and a forward pass using
 * only the first {@link #rowsInUse()} rows. Subclasses hold the keys and values and move them.
 */
public abstract class CacheColumns implements Engine.Cache {

    protected final int batch;
    protected final int capacity;
    private int rows;
    private int length;

    protected CacheColumns(int batch, int capacity) {
        this.batch = batch;
        this.rows = batch;
        this.capacity = capacity;
    }

    @Override
    public final int length() {
        return length;
    }

    @Override
    public final int capacity() {
        return capacity;
    }

    /** The rows a forward pass may use now. */
    public final int rowsInUse() {
        return rows;
    }

    @Override
    public final void rows(int n) {
        if (n < 1 || n > batch) {
            throw new IllegalArgumentException("rows " + n + " outside [1, " + batch + "]");
        }
        rows = n;
    }

    /** Moves the write column on past t columns a forward pass just wrote. */
    public final void advance(int t) {
        length += t;
    }

    @Override
    public final void jumpTo(int column) {
        if (column < 0 || column > capacity) {
            throw new IllegalArgumentException("column " + column + " outside [0, " + capacity + "]");
        }
        length = column;
    }

    @Override
    public final void shift(int by) {
        if (by == 0) {
            return;
        }
        int from = by < 0 ? -by : 0;
        int n = length - from;
        if (by > 0 && length + by > capacity) {
            throw new IllegalStateException("cannot shift " + length + " columns right by " + by + " within " + capacity);
        }
        if (n > 0) {
            moveColumns(from, n, by);
        }
        length = Math.max(0, length + by);
    }

    /** Moves columns [from, from + n) of every row by {@code by} (overlapping runs included). */
    protected abstract void moveColumns(int from, int n, int by);
}
