package io.laai.model;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

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
 * Memory: the shared cache lives until {@link #close()}; a prefill's own cache and Δ close after
 * it; the stacked Δ of the rows in use are replaced when the rows change. All on the model's
 * {@link Engine}.
 */
public final class ContinuousGenerator implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ContinuousGenerator.class);

    private record Job(Generator.Request request, int[] prompt, Consumer<String> onText,
            CompletableFuture<Generator.Result> result, long deadline) {
        boolean expired(long now) {
            return now - deadline > 0;
        }
    }

    /**
     * What the generator may take on: {@code budgetBytes} of native memory for the shared KV cache,
     * the decode step and the prefills in flight; prompt tokens per prefill forward pass; requests
     * waiting for a row; and how long a request may take, waiting included.
     */
    public record Admission(long budgetBytes, int prefillChunk, int maxQueued, Duration timeout) {
        public static final Admission UNBOUNDED = new Admission(Long.MAX_VALUE, 256, Integer.MAX_VALUE, Duration.ofDays(1));

        public Admission {
            if (budgetBytes < 1 || prefillChunk < 1 || maxQueued < 0 || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("laai.edge.memory-budget, prefill-chunk, max-queued and request-timeout "
                        + "must be positive, were " + budgetBytes + ", " + prefillChunk + ", " + maxQueued + ", " + timeout);
            }
        }
    }

    /** A request refused for load, not for what it asked: the status to answer and when to try again. */
    public static final class Refused extends RuntimeException {
        private final int status;
        private final int retryAfterSeconds;

        Refused(int status, String message, int retryAfterSeconds) {
            super(message);
            this.status = status;
            this.retryAfterSeconds = retryAfterSeconds;
        }

        public int status() {
            return status;
        }

        public int retryAfterSeconds() {
            return retryAfterSeconds;
        }
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
    private final Admission admission;
    private final MemoryEstimate memory;
    private final long prefillBudget; // what the budget leaves for prefills once the cache and a decode step are counted
    private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger waiting = new AtomicInteger(); // submitted, not yet in a row or ended
    private final Thread worker;
    private volatile boolean closed;
    private volatile boolean draining;
    private final AtomicInteger unfinished = new AtomicInteger(); // accepted, not yet ended

    // Worker thread only.
    private final Slot[] slots;
    private Job deferred;
    private Engine.Deltas deltas;
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
        this(model, rows, kvTokens, Admission.UNBOUNDED);
    }

    /**
     * @throws IllegalArgumentException when the budget cannot hold the KV cache, a decode step over
     *         every row and one prefill of the longest prompt: the message names the numbers
     */
    public ContinuousGenerator(LanguageModel model, int rows, int kvTokens, Admission admission) {
        if (rows < 1 || kvTokens < 2) {
            throw new IllegalArgumentException("rows must be >= 1 and kv tokens >= 2, were " + rows + ", " + kvTokens);
        }
        this.model = model;
        this.config = model.config();
        this.capacity = Math.min(config.maxPositionEmbeddings(), kvTokens);
        this.capacityName = capacity < config.maxPositionEmbeddings() ? "laai.edge.kv-tokens" : "the model's context";
        this.admission = admission;
        this.memory = new MemoryEstimate(config);
        long fixed = memory.kvCacheBytes(rows, capacity) + memory.inferenceBytes(rows, rows, capacity);
        long longest = memory.prefillBytes(1, capacity, admission.prefillChunk());
        if (admission.budgetBytes() != Long.MAX_VALUE && fixed + longest > admission.budgetBytes()) {
            throw new IllegalArgumentException("laai.edge.memory-budget " + MemoryEstimate.mib(admission.budgetBytes())
                    + " cannot hold the KV cache of laai.edge.max-batch " + rows + " x " + capacity + " columns ("
                    + MemoryEstimate.mib(memory.kvCacheBytes(rows, capacity)) + "), a decode step and one prefill of "
                    + capacity + " tokens (" + MemoryEstimate.mib(longest) + "): raise the budget or lower "
                    + "laai.edge.max-batch or laai.edge.kv-tokens");
        }
        this.prefillBudget = admission.budgetBytes() == Long.MAX_VALUE ? Long.MAX_VALUE : admission.budgetBytes() - fixed;
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
        if (closed || draining) {
            throw new Refused(503, "the server is shutting down", 5);
        }
        // Everything that can refuse a request is checked here, before a streamed answer has begun.
        int[] prompt = GenerationRow.promptIds(model, request);
        if (prompt.length >= capacity) {
            throw new IllegalArgumentException("the prompt is " + prompt.length + " tokens; " + capacityName + " is "
                    + capacity);
        }
        RowDeltas.check(config, request.steering());
        if (waiting.incrementAndGet() > (long) admission.maxQueued() + slots.length) {
            waiting.decrementAndGet();
            throw new Refused(429, "the server is at capacity: " + admission.maxQueued()
                    + " requests already wait for a row (laai.edge.max-queued); retry later", 1);
        }
        try {
            // Once admitted: a conditional intervention's forward pass runs on the caller's thread, not generation's.
            request = GenerationRow.resolved(model, request, prompt);
        } catch (RuntimeException e) {
            waiting.decrementAndGet();
            throw e;
        }
        CompletableFuture<Generator.Result> f = new CompletableFuture<>();
        unfinished.incrementAndGet();
        f.whenComplete((r, e) -> unfinished.decrementAndGet());
        queue.add(new Job(request, prompt, onText, f, System.nanoTime() + admission.timeout().toNanos()));
        return f;
    }

    /** True, and the request no longer waits, when it was cancelled or its deadline passed while it waited. */
    private boolean dropped(Job job, long now) {
        if (!job.result.isDone() && !job.expired(now)) {
            return false;
        }
        waiting.decrementAndGet();
        job.result.completeExceptionally(timedOut("while waiting for a row")); // no-op when cancelled
        return true;
    }

    private Refused timedOut(String phase) {
        return new Refused(503, "the request did not finish within laai.edge.request-timeout ("
                + admission.timeout().toSeconds() + " s) " + phase, 5);
    }

    private void run() {
        Engine engine = model.engine();
        try (Engine.Cache cache = engine.cache(slots.length, capacity)) {
            while (!closed) {
                try {
                    if (active() == 0 && deferred == null) {
                        Job next = queue.poll(200, TimeUnit.MILLISECONDS);
                        if (next == null) {
                            continue;
                        }
                        deferred = next;
                    }
                    admit(engine, cache);
                    if (active() > 0) {
                        decode(engine, cache);
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
            if (deltas != null) {
                deltas.close();
            }
            Refused down = new Refused(503, "the server shut down before the request finished", 5);
            for (Slot s : slots) {
                if (s != null) {
                    s.job.result.completeExceptionally(down);
                }
            }
            if (deferred != null) {
                deferred.result.completeExceptionally(down);
            }
            waiting.set(0);
            queue.forEach(j -> j.result.completeExceptionally(down));
        }
    }

    /** How often the cache dropped leading columns (for tests of either engine). */
    public int shiftsLeft() {
        return shiftsLeft;
    }

    /** How often the cache opened columns in front. */
    public int shiftsRight() {
        return shiftsRight;
    }

    /** Requests generating in a row now (for metrics; read from any thread). */
    public int running() {
        return Math.max(0, unfinished.get() - waiting.get());
    }

    /** Requests accepted and waiting for a row. */
    public int waiting() {
        return Math.max(0, waiting.get());
    }

    private int active() {
        int n = 0;
        for (Slot s : slots) {
            n += s == null ? 0 : 1;
        }
        return n;
    }

    /**
     * Moves waiting requests into free rows and prefills them, right-aligned to the shared write
     * column. Requests join while their prefill, together, fits what the memory budget leaves; the
     * rest wait for the next step, when this prefill's memory is free again.
     */
    private void admit(Engine engine, Engine.Cache cache) {
        long now = System.nanoTime();
        queue.removeIf(j -> dropped(j, now)); // requests deep in the queue time out too
        List<Integer> joined = new ArrayList<>();
        int longest = 0;
        while (true) {
            Job job = deferred != null ? deferred : queue.poll();
            deferred = null;
            if (job == null) {
                break;
            }
            if (dropped(job, now)) {
                continue;
            }
            int free = -1;
            for (int i = 0; i < slots.length && free < 0; i++) {
                if (slots[i] == null && !joined.contains(i)) {
                    free = i;
                }
            }
            int t0 = Math.max(longest, job.prompt.length);
            if (free < 0 || (!joined.isEmpty()
                    && memory.prefillBytes(joined.size() + 1, t0, admission.prefillChunk()) > prefillBudget)) {
                deferred = job; // no row, or no memory for its prefill alongside these: it joins at a later step
                break;
            }
            waiting.decrementAndGet();
            slots[free] = new Slot(job, new GenerationRow(job.request, job.prompt, capacity, capacityName));
            joined.add(free);
            longest = t0;
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
        prefill(engine, cache, joined, cache.length());
    }

    private void prefill(Engine engine, Engine.Cache cache, List<Integer> joined, int column) {
        int n = joined.size();
        List<GenerationRow> rows = joined.stream().map(i -> slots[i].row).toList();
        int t0 = rows.stream().mapToInt(r -> r.prompt.length).max().orElseThrow();
        GenerationRow.Prefill p = GenerationRow.Prefill.of(rows, t0);
        int[] next;
        try (Engine.Cache own = engine.cache(n, t0);
                Engine.Deltas d = engine.deltas(rows.stream().map(r -> r.request.steering()).toList())) {
            next = GenerationRow.prefill(engine, own, d, rows.toArray(new GenerationRow[0]), p, admission.prefillChunk());
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
    private void decode(Engine engine, Engine.Cache cache) {
        long now = System.nanoTime();
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null && slots[i].job.expired(now)) {
                slots[i].job.result.completeExceptionally(timedOut("after " + slots[i].row.generated.size()
                        + " generated tokens"));
            }
            if (slots[i] != null && slots[i].job.result.isDone()) {
                slots[i] = null; // cancelled (the client went away) or timed out
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
            if (deltas != null) {
                deltas.close();
                deltas = null;
            }
            List<Steering> steering = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                steering.add(slots[i] == null ? Steering.NONE : slots[i].job.request.steering());
            }
            deltas = engine.deltas(steering);
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
        try {
            GenerationRow[] rowsInUse = new GenerationRow[b];
            for (int i : rows) {
                rowsInUse[i] = slots[i].row;
            }
            Engine.Logits logits = engine.forward(new Engine.Batch(b, 1, ids, pos, bias, GenerationRow.spanMask(rowsInUse)),
                    cache, deltas, GenerationRow.output(rowsInUse));
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
            s.job.result.complete(r.result(model));
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
    private void compact(Engine.Cache cache, boolean needed) {
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

    /**
     * Stops admitting (503), lets the requests accepted so far finish for at most {@code timeout},
     * then closes: those still running end with a 503 error. Returns how many were cut short.
     */
    public int drain(java.time.Duration timeout) {
        draining = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (unfinished.get() > 0 && System.nanoTime() < deadline && worker.isAlive()) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int cut = unfinished.get();
        close();
        return cut;
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
