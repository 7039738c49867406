package io.laai.model;

import java.lang.management.ManagementFactory;

/**
 * Worst-case native memory of the model's work, in bytes, from its config alone, so that the edge
 * and the trainer can admit work by what it will cost before running it. Every tensor is f32.
 * The constants count the tensors of one layer that are alive at once (measured on stories260K
 * and a SmolLM2-135M-shaped model; README gives the formulas): inference frees a layer's
 * temporaries before the next layer (Transformer.forward with a cache); training keeps every
 * layer's for backward.
 */
public final class MemoryEstimate {

    private static final long F32 = 4;

    private final ModelConfig c;

    public MemoryEstimate(ModelConfig c) {
        this.c = c;
    }

    /** Keys and values of one token over every layer. */
    public long kvBytesPerToken() {
        return F32 * 2L * c.numHiddenLayers() * c.numKeyValueHeads() * c.headDim();
    }

    public long kvCacheBytes(long rows, long columns) {
        return rows * columns * kvBytesPerToken();
    }

    /** Per query token and layer, the activations other than attention scores. */
    private long activationsPerToken() {
        long qkv = (long) (c.numAttentionHeads() + 2L * c.numKeyValueHeads()) * c.headDim();
        return 16L * c.hiddenSize() + 8L * c.intermediateSize() + 6L * qkv;
    }

    /**
     * One inference forward pass over {@code queries} tokens in all (rows × tokens) attending to at
     * most {@code keys} columns: one layer's temporaries, the attention mask (on the Java heap and
     * native), and last-position logits.
     */
    public long inferenceBytes(long rows, long queries, long keys) {
        long scores = 6L * c.numAttentionHeads() * keys;           // scores, scaled, masked, softmax, copies
        long layer = F32 * queries * (activationsPerToken() + scores);
        long mask = 2 * F32 * queries * keys;
        long embeddings = 4 * F32 * queries * c.hiddenSize() * (c.numHiddenLayers() + 1L) / 4;
        long logits = 2 * F32 * rows * c.vocabSize();
        return layer + mask + embeddings + logits;
    }

    /**
     * A prefill of {@code rows} prompts of at most {@code tokens} tokens, run in chunks of
     * {@code chunk} tokens in all: the rows' own KV cache plus one chunk's forward pass.
     */
    public long prefillBytes(long rows, long tokens, int chunk) {
        long perChunk = Math.max(1, Math.min(tokens, chunk / Math.max(1, rows)));
        return kvCacheBytes(rows, tokens) + inferenceBytes(rows, rows * perChunk, tokens);
    }

    /**
     * One training forward and backward pass over {@code rows} rows padded to {@code tokens}:
     * autograd keeps every layer's activations and attention probabilities, and the gradients of
     * the same size exist during backward; logits and their log-softmax and gradient too.
     */
    public long trainingBytes(long rows, long tokens) {
        long scores = 8L * c.numAttentionHeads() * tokens;
        long perToken = c.numHiddenLayers() * (2 * activationsPerToken() + scores) + 4L * c.vocabSize();
        return F32 * rows * tokens * perToken + 2 * F32 * rows * tokens * tokens;
    }

    /** The model's weights as the engine holds them (f32), fused projections included. */
    public long weightBytes() {
        long d = c.hiddenSize();
        long qkv = (long) (c.numAttentionHeads() + 2L * c.numKeyValueHeads()) * c.headDim();
        long layer = qkv * d + (long) c.numAttentionHeads() * c.headDim() * d + 3L * d * c.intermediateSize() + 4 * d;
        long embed = (long) c.vocabSize() * d * (c.tieWordEmbeddings() ? 1 : 2);
        return F32 * (embed + c.numHiddenLayers() * layer);
    }

    /**
     * The default budget of a part of the service: {@code share} of the memory this process may
     * use (the container's limit where there is one: the JVM reads cgroups) beyond the Java heap's
     * maximum and the model's weights. Never below 64 MiB.
     */
    public long defaultBudget(double share) {
        long total = totalMemory();
        long heap = Runtime.getRuntime().maxMemory();
        long left = total - heap - weightBytes();
        return Math.max(64L << 20, (long) (left * share));
    }

    static long totalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize(); // container-aware since JDK 14
        }
        return 8L << 30;
    }

    public static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
