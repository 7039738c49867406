package io.laai.intervention;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import io.laai.model.Steering;

/**
 * A learned intervention: an immutable value of site, position rule and layer → Δ (length H·d
 * for attn_heads, D for residual, only for layers kept), with the metadata its artifact carries
 * and, when it has one, the condition that decides which prompts it applies to. Metadata
 * {@value #SPAN_TOKENS}, when present, is how many generated tokens Δ steers ({@link #span()}).
 */
public record Intervention(
        String task,
        long version,
        Site site,
        Positions positions,
        SortedMap<Integer, float[]> deltas,
        String modelFingerprint,
        int hiddenSize,
        int numHeads,
        int headDim,
        Map<String, String> metadata,
        Condition condition) {

    /** An intervention that applies to every prompt. */
    public Intervention(String task, long version, Site site, Positions positions, SortedMap<Integer, float[]> deltas,
            String modelFingerprint, int hiddenSize, int numHeads, int headDim, Map<String, String> metadata) {
        this(task, version, site, positions, deltas, modelFingerprint, hiddenSize, numHeads, headDim, metadata, null);
    }

    /** Metadata key: the generated tokens Δ steers, a positive integer (absent: all of them). */
    public static final String SPAN_TOKENS = "span_tokens";

    public Intervention {
        if (condition != null && condition.centroid().length != hiddenSize) {
            throw new IllegalArgumentException("the condition's centroid has " + condition.centroid().length
                    + " values; the model's hidden size is " + hiddenSize);
        }
        deltas = Collections.unmodifiableSortedMap(new TreeMap<>(deltas));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        span(metadata);
        int width = width(site, hiddenSize, numHeads, headDim);
        for (Map.Entry<Integer, float[]> e : deltas.entrySet()) {
            if (e.getValue().length != width) {
                throw new IllegalArgumentException("delta." + e.getKey() + " has " + e.getValue().length
                        + " values, " + site.id() + " needs " + width);
            }
            for (float v : e.getValue()) {
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("delta." + e.getKey() + " holds a non-finite value");
                }
            }
        }
    }

    /** The same intervention with more metadata (later values win). */
    public Intervention withMetadata(Map<String, String> more) {
        Map<String, String> m = new LinkedHashMap<>(metadata);
        m.putAll(more);
        return new Intervention(task, version, site, positions, deltas, modelFingerprint, hiddenSize, numHeads, headDim, m,
                condition);
    }

    /** The same intervention applied only where {@code c} holds (null: everywhere). */
    public Intervention withCondition(Condition c) {
        return new Intervention(task, version, site, positions, deltas, modelFingerprint, hiddenSize, numHeads, headDim,
                metadata, c);
    }

    /**
     * How many generated tokens Δ steers: the predictions of the first span() tokens get it, the
     * rest come from the base model (Integer.MAX_VALUE: all).
     */
    public int span() {
        return span(metadata);
    }

    private static int span(Map<String, String> metadata) {
        String v = metadata.get(SPAN_TOKENS);
        if (v == null) {
            return Integer.MAX_VALUE;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException("metadata " + SPAN_TOKENS + " is '" + v + "', not a positive integer");
    }

    public static int width(Site site, int hiddenSize, int numHeads, int headDim) {
        return site == Site.ATTN_HEADS ? numHeads * headDim : hiddenSize;
    }

    public int width() {
        return width(site, hiddenSize, numHeads, headDim);
    }

    /** L2 norm of each kept layer's Δ. */
    public SortedMap<Integer, Double> layerNorms() {
        SortedMap<Integer, Double> norms = new TreeMap<>();
        deltas.forEach((l, v) -> norms.put(l, norm(v, 0, v.length)));
        return norms;
    }

    /** L2 norm of each head's slice per layer (attn_heads only). */
    public SortedMap<Integer, double[]> headNorms() {
        SortedMap<Integer, double[]> norms = new TreeMap<>();
        if (site == Site.ATTN_HEADS) {
            deltas.forEach((l, v) -> {
                double[] h = new double[numHeads];
                for (int i = 0; i < numHeads; i++) {
                    h[i] = norm(v, i * headDim, headDim);
                }
                norms.put(l, h);
            });
        }
        return norms;
    }

    /** Number of (layer, head) groups — or layers for residual — with a non-zero Δ. */
    public int activeGroups() {
        if (site == Site.RESIDUAL) {
            return (int) layerNorms().values().stream().filter(n -> n > 0).count();
        }
        return (int) headNorms().values().stream().flatMapToDouble(java.util.Arrays::stream).filter(n -> n > 0).count();
    }

    public static double norm(float[] v) {
        return norm(v, 0, v.length);
    }

    static double norm(float[] v, int from, int len) {
        double s = 0;
        for (int i = from; i < from + len; i++) {
            s += (double) v[i] * v[i];
        }
        return Math.sqrt(s);
    }

    /** This intervention, at the given scale, as one batch row's steering. */
    public Steering steering(double scale) {
        return Composition.of(Map.of(this, scale));
    }
}
