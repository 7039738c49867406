package io.laai.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;

/**
 * Serving with token-level continuous batching: one worker runs a decode loop over a fixed set
 * of rows (slots) sharing one KV cache. A request joins at the next step (its prompt prefilled on
 * its own, its keys and values copied into a free row so that they end at the shared write
 * column) and leaves as soon as it ends, freeing its row for the next; every step decodes one token
 * for every row in use, each with its own sampling and intervention. A row owns the contiguous
 * columns from its start to the write column; the others are masked. A prompt longer than the
 * columns written so far shifts the cache right to make room; when the write column reaches the
 * end, or a quarter of the columns belong to no running row, the cache shifts left.
 * <p>
 * Native memory: the cache lives in this object's manager until {@link #close()}; a prefill's
 * temporaries live in a sub-manager closed after it; each step runs in an NDScope.
 */
public final class ContinuousGenerator implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ContinuousGenerator.class);

    private record Job(Generator.Request request, Consumer<String> onText, CompletableFuture<Generator.Result> result) {
    }

    /** A request in a row of the batch. */
    private static final class Slot {
        final Job job;
        final GenerationRow row;
        final Generator.Listener listener;
        boolean placed; // its prompt is in the cache
        int start;      // its first cache column
        int nextPosition;
        int lastToken;

        Slot(Job job, GenerationRow row) {
            this.job = job;
            this.row = row;
            this.listener = job.onText == null ? null : (i, delta) -> job.onText.accept(delta);
        }
    }

    private final LanguageModel model;
    private final ModelConfig config;
    private final int capacity;
    private final String capacityName;
    private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    // Worker thread only.
    private final Slot[] slots;
    private Job deferred;
    private NDManager deltaManager;
    private RowDeltas deltas;
    private boolean membershipChanged = true;
    // How often the cache shifted, for tests.
    volatile int shiftsLeft;
    volatile int shiftsRight;

    /**
     * @param rows     most requests decoded together
     * @param kvTokens columns of the shared KV cache (bounded by the model's context): the longest
     *                 prompt plus completion a request may have
     */
    public ContinuousGenerator(LanguageModel model, int rows, int kvTokens) {
        if (rows < 1 || kvTokens < 2) {
            throw new IllegalArgumentException("rows must be >= 1 and kv tokens >= 2, were " + rows + ", " + kvTokens);
        }
        this.model = model;
        this.config = model.config();
        this.capacity = Math.min(config.maxPositionEmbeddings(), kvTokens);
        this.capacityName = capacity < config.maxPositionEmbeddings() ? "laai.edge.kv-tokens" : "the model's context";
        this.slots = new Slot[rows];
        this.worker = new Thread(this::run, "laai-generation");
        this.worker.setDaemon(true);
        this.worker.start();
    }

    /**
     * Queues a request; the future completes when it ends. onText, when given, receives the
     * completion as it grows (never half a UTF-8 character), on the generation thread. Cancelling
     * the future (a client that went away) frees its row at the next step.
     */
    public CompletableFuture<Generator.Result> submit(Generator.Request request, Consumer<String> onText) {
        CompletableFuture<Generator.Result> f = new CompletableFuture<>();
        if (closed) {
            f.completeExceptionally(new IllegalStateException("generation has shut down"));
            return f;
        }
        queue.add(new Job(request, onText, f));
        return f;
    }

    private void run() {
        try (NDManager manager = model.transformer().manager().newSubManager();
                KvCache cache = new KvCache(manager, config, slots.length, capacity)) {
            while (!closed) {
                try {
                    if (active() == 0 && deferred == null) {
                        Job next = queue.poll(200, TimeUnit.MILLISECONDS);
                        if (next == null) {
                            continue;
                        }
                        deferred = next;
                    }
                    admit(manager, cache);
                    if (active() > 0) {
                        decode(manager, cache);
                    }
                } catch (InterruptedException e) {
                    break;
                } catch (RuntimeException e) {
                    LOG.error("Generation step failed; failing the requests in it", e);
                    for (int i = 0; i < slots.length; i++) {
                        if (slots[i] != null) {
                            slots[i].job.result.completeExceptionally(e);
                            slots[i] = null;
                        }
                    }
                    membershipChanged = true;
                    cache.jumpTo(0);
                }
            }
        } finally {
            if (deltaManager != null) {
                deltaManager.close();
            }
            IllegalStateException down = new IllegalStateException("generation has shut down");
            for (Slot s : slots) {
                if (s != null) {
                    s.job.result.completeExceptionally(down);
                }
            }
            if (deferred != null) {
                deferred.result.completeExceptionally(down);
            }
            queue.forEach(j -> j.result.completeExceptionally(down));
        }
    }

    private int active() {
        int n = 0;
        for (Slot s : slots) {
            n += s == null ? 0 : 1;
        }
        return n;
    }

    /** Moves waiting requests into free rows and prefills them, right-aligned to the shared write column. */
    private void admit(NDManager manager, KvCache cache) {
        List<Integer> joined = new ArrayList<>();
        while (true) {
            Job job = deferred != null ? deferred : queue.poll();
            deferred = null;
            if (job == null) {
                break;
            }
            if (job.result.isDone()) {
                continue; // cancelled while it waited
            }
            int free = -1;
            for (int i = 0; i < slots.length && free < 0; i++) {
                if (slots[i] == null && !joined.contains(i)) {
                    free = i;
                }
            }
            if (free < 0) {
                deferred = job; // every row is busy: it joins when one frees
                break;
            }
            try {
                GenerationRow row = new GenerationRow(job.request, GenerationRow.promptIds(model, job.request.prompt()),
                        capacity, capacityName);
                RowDeltas.check(config, job.request.steering());
                slots[free] = new Slot(job, row);
                joined.add(free);
            } catch (IllegalArgumentException e) {
                job.result.completeExceptionally(e);
            }
        }
        if (joined.isEmpty()) {
            return;
        }
        membershipChanged = true;
        if (active() == joined.size()) {
            cache.jumpTo(0); // nothing else runs: start the cache afresh
        }
        if (cache.length() >= capacity) {
            compact(cache, true);
        }
        int longest = joined.stream().mapToInt(i -> slots[i].row.prompt.length).max().orElseThrow();
        if (longest > cache.length()) {
            // Room in front for the longest prompt, so every row's columns stay contiguous.
            int by = longest - cache.length();
            cache.shift(by);
            shiftsRight += active() > joined.size() ? 1 : 0;
            for (Slot s : slots) {
                if (s != null && s.placed) {
                    s.start += by;
                }
            }
        }
        prefill(manager, cache, joined, cache.length());
    }

    private void prefill(NDManager manager, KvCache cache, List<Integer> joined, int column) {
        int n = joined.size();
        List<GenerationRow> rows = joined.stream().map(i -> slots[i].row).toList();
        int t0 = rows.stream().mapToInt(r -> r.prompt.length).max().orElseThrow();
        GenerationRow.Prefill p = GenerationRow.Prefill.of(rows, t0);
        int[] next;
        try (NDManager req = manager.newSubManager(); KvCache own = new KvCache(req, config, n, t0);
                NDScope scope = new NDScope()) {
            RowDeltas d = RowDeltas.of(req, config, rows.stream().map(r -> r.request.steering()).toList());
            NDArray logits = model.transformer().forward(req.create(p.ids(), new Shape(n, t0)),
                    req.create(p.positions(), new Shape(n, t0)),
                    req.create(Generator.attentionBias(p.valid(), t0, 0, t0),
                            new Shape(n, 1, t0, t0)), own, d.hooks(req.create(p.mask(), new Shape(n, t0, 1))), true);
            next = GenerationRow.nextTokens(logits, rows.toArray(new GenerationRow[0]), config.vocabSize());
            for (int j = 0; j < n; j++) {
                int length = rows.get(j).prompt.length;
                cache.copyRow(own, j, t0 - length, joined.get(j), column - length, length);
            }
        }
        for (int j = 0; j < n; j++) {
            int i = joined.get(j);
            Slot s = slots[i];
            s.start = column - s.row.prompt.length;
            s.placed = true;
            s.nextPosition = s.row.prompt.length;
            accept(i, next[j]);
        }
    }

    /** One token for every row in use. */
    private void decode(NDManager manager, KvCache cache) {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null && slots[i].job.result.isCancelled()) {
                slots[i] = null;
                membershipChanged = true;
            }
        }
        if (active() == 0) {
            return;
        }
        compact(cache, cache.length() >= capacity);
        int b = 0;
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null) {
                b = i + 1;
            }
        }
        if (membershipChanged) {
            if (deltaManager != null) {
                deltaManager.close();
            }
            deltaManager = manager.newSubManager();
            List<Steering> steering = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                steering.add(slots[i] == null ? Steering.NONE : slots[i].job.request.steering());
            }
            deltas = RowDeltas.of(deltaManager, config, steering);
            membershipChanged = false;
        }
        int column = cache.length();
        int l = column + 1;
        long[] ids = new long[b];
        long[] pos = new long[b];
        float[] bias = new float[b * l];
        Arrays.fill(bias, Transformer.MASKED);
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            Slot s = slots[i];
            if (s == null) {
                bias[i * l + column] = 0f; // a free row attends to its own column only, so its softmax stays finite
                continue;
            }
            rows.add(i);
            ids[i] = s.lastToken;
            pos[i] = s.nextPosition;
            Arrays.fill(bias, i * l + s.start, i * l + column + 1, 0f);
        }
        int[] next;
        cache.rows(b);
        try (NDScope scope = new NDScope()) {
            NDArray logits = model.transformer().forward(manager.create(ids, new Shape(b, 1)),
                    manager.create(pos, new Shape(b, 1)), manager.create(bias, new Shape(b, 1, 1, l)), cache,
                    deltas.hooks(null), true);
            GenerationRow[] rowsInUse = new GenerationRow[b];
            for (int i : rows) {
                rowsInUse[i] = slots[i].row;
            }
            next = GenerationRow.nextTokens(logits, rowsInUse, config.vocabSize());
        } finally {
            cache.rows(slots.length);
        }
        for (int i : rows) {
            slots[i].nextPosition++;
            accept(i, next[i]);
        }
    }

    private void accept(int i, int token) {
        Slot s = slots[i];
        s.row.accept(token, model, s.listener, i);
        s.lastToken = token;
        if (s.row.done) {
            GenerationRow r = s.row;
            s.job.result.complete(new Generator.Result(r.text(model), r.finishReason, r.prompt.length, r.generated.size()));
            slots[i] = null;
            membershipChanged = true;
        }
    }

    /**
     * Drops leading columns no running row attends to: always when {@code needed} (the write column
     * is at the end), otherwise once they are a quarter of the columns in use, since every step
     * attends over all columns up to the write column. A row's columns are its tokens so far, fewer
     * than the cache holds, so a full cache always has a leading column to drop.
     */
    private void compact(KvCache cache, boolean needed) {
        int first = cache.length();
        for (Slot s : slots) {
            if (s != null && s.placed) {
                first = Math.min(first, s.start);
            }
        }
        if (needed && first == 0) {
            throw new IllegalStateException("KV cache full: a row holds all " + capacity + " columns");
        }
        if (first == 0 || (!needed && first < Math.max(32, cache.length() / 4))) {
            return;
        }
        cache.shift(-first);
        shiftsLeft++;
        for (Slot s : slots) {
            if (s != null && s.placed) {
                s.start -= first;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        try {
            worker.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
