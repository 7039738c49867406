package io.laai.intervention;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import io.laai.model.HostTensor;
import io.laai.model.LanguageModel;
import io.laai.model.ModelConfig;
import io.laai.model.ModelFormatException;
import io.laai.model.Safetensors;

/**
 * The artifact format of README: safetensors with tensors {@code delta.<layer>} (f32, [H, d] for
 * attn_heads, [D] for residual) and string metadata ({@code format = laai-intervention/1}, task,
 * version, site, positions, layers, model fingerprint, sizes, metrics, hyperparameters).
 */
public final class Artifacts {

    public static final String FORMAT = "laai-intervention/1";
    public static final String CONTENT_TYPE = "application/vnd.laai.intervention+safetensors";

    private Artifacts() {
    }

    /** The record headers README gives an artifact on laai.interventions. */
    public static java.util.Map<String, String> headers(Intervention iv) {
        return java.util.Map.of("laai-version", Long.toString(iv.version()), "laai-model-fingerprint", iv.modelFingerprint(),
                "content-type", CONTENT_TYPE);
    }

    public static byte[] encode(Intervention iv) {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        iv.deltas().forEach((layer, v) -> {
            long[] shape = iv.site() == Site.ATTN_HEADS ? new long[] {iv.numHeads(), iv.headDim()} : new long[] {v.length};
            tensors.put("delta." + layer, new HostTensor(shape, v.clone()));
        });
        Map<String, String> meta = new LinkedHashMap<>(iv.metadata());
        if (iv.condition() != null) {
            tensors.put("condition.centroid", new HostTensor(new long[] {iv.hiddenSize()}, iv.condition().centroid()));
            if (iv.condition().center() != null) {
                tensors.put("condition.center", new HostTensor(new long[] {iv.hiddenSize()}, iv.condition().center()));
            }
            meta.put("condition_layer", Integer.toString(iv.condition().layer()));
            meta.put("condition_threshold", Double.toString(iv.condition().threshold()));
        }
        meta.put("format", FORMAT);
        meta.put("task", iv.task());
        meta.put("version", Long.toString(iv.version()));
        meta.put("site", iv.site().id());
        meta.put("positions", iv.positions().id());
        meta.put("layers", String.join(",", iv.deltas().keySet().stream().map(String::valueOf).toList()));
        meta.put("model_fingerprint", iv.modelFingerprint());
        meta.put("hidden_size", Integer.toString(iv.hiddenSize()));
        meta.put("num_heads", Integer.toString(iv.numHeads()));
        meta.put("head_dim", Integer.toString(iv.headDim()));
        return Safetensors.encode(tensors, meta);
    }

    public static void write(Intervention iv, Path file) throws IOException {
        Safetensors.writeAtomically(file, encode(iv));
    }

    public static Intervention read(Path file) {
        try {
            return decode(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage());
        }
    }

    /** Parses and validates an artifact; every problem names the source and the field. */
    public static Intervention decode(byte[] bytes, String source) {
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, HostTensor> tensors = new LinkedHashMap<>(Safetensors.decode(bytes, source, meta));
        if (!FORMAT.equals(meta.get("format"))) {
            throw new ModelFormatException(source + ": metadata format is '" + meta.get("format") + "', expected "
                    + FORMAT);
        }
        Site site;
        Positions positions;
        try {
            site = Site.parse(required(meta, "site", source));
            positions = Positions.parse(required(meta, "positions", source));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": " + e.getMessage());
        }
        int hidden = integer(meta, "hidden_size", source);
        int heads = integer(meta, "num_heads", source);
        int headDim = meta.containsKey("head_dim") ? integer(meta, "head_dim", source) : hidden / heads;
        TreeMap<Integer, float[]> deltas = new TreeMap<>();
        Condition condition = null;
        HostTensor centroid = tensors.remove("condition.centroid");
        HostTensor center = tensors.remove("condition.center");
        if (centroid != null || center != null || meta.containsKey("condition_layer")
                || meta.containsKey("condition_threshold")) {
            if (centroid == null) {
                throw new ModelFormatException(source + ": condition_layer, condition_threshold or condition.center"
                        + " without a condition.centroid tensor");
            }
            try {
                condition = new Condition(integer(meta, "condition_layer", source), centroid.data(),
                        center == null ? null : center.data(),
                        Double.parseDouble(required(meta, "condition_threshold", source)));
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(source + ": condition: " + e.getMessage());
            }
        }
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            if (!e.getKey().matches("delta\\.\\d{1,4}")) {
                throw new ModelFormatException(source + ": unexpected tensor " + e.getKey());
            }
            deltas.put(Integer.parseInt(e.getKey().substring(6)), e.getValue().data());
        }
        Map<String, String> extra = new LinkedHashMap<>(meta);
        for (String k : new String[] {"format", "task", "version", "site", "positions", "layers", "model_fingerprint",
                "hidden_size", "num_heads", "head_dim", "condition_layer", "condition_threshold"}) {
            extra.remove(k);
        }
        try {
            return new Intervention(required(meta, "task", source), Long.parseLong(required(meta, "version", source)),
                    site, positions, deltas, required(meta, "model_fingerprint", source), hidden, heads, headDim, extra,
                    condition);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": " + e.getMessage());
        }
    }

    /** Refuses an artifact made for another model, or whose layers and sizes do not fit this one. */
    public static void requireCompatible(Intervention iv, LanguageModel model) {
        if (!iv.modelFingerprint().equals(model.fingerprint())) {
            throw new IllegalArgumentException("intervention for task '" + iv.task() + "' was made for model "
                    + iv.modelFingerprint() + ", not for the loaded model " + model.fingerprint() + " (" + model.id() + ")");
        }
        ModelConfig c = model.config();
        if (iv.hiddenSize() != c.hiddenSize() || iv.numHeads() != c.numAttentionHeads() || iv.headDim() != c.headDim()) {
            throw new IllegalArgumentException("intervention for task '" + iv.task() + "' has sizes D=" + iv.hiddenSize()
                    + ", H=" + iv.numHeads() + ", d=" + iv.headDim() + "; the model has D=" + c.hiddenSize() + ", H="
                    + c.numAttentionHeads() + ", d=" + c.headDim());
        }
        if (iv.condition() != null && iv.condition().layer() >= c.numHiddenLayers()) {
            throw new IllegalArgumentException("intervention for task '" + iv.task() + "' has its condition at layer "
                    + iv.condition().layer() + "; the model has " + c.numHiddenLayers());
        }
        for (int layer : iv.deltas().keySet()) {
            if (layer < 0 || layer >= c.numHiddenLayers()) {
                throw new IllegalArgumentException("intervention for task '" + iv.task() + "' has layer " + layer
                        + "; the model has " + c.numHiddenLayers());
            }
        }
    }

    private static String required(Map<String, String> meta, String key, String source) {
        String v = meta.get(key);
        if (v == null || v.isEmpty()) {
            throw new ModelFormatException(source + ": metadata " + key + " is missing");
        }
        return v;
    }

    private static int integer(Map<String, String> meta, String key, String source) {
        try {
            return Integer.parseInt(required(meta, key, source));
        } catch (NumberFormatException e) {
            throw new ModelFormatException(source + ": metadata " + key + " is not an integer");
        }
    }
}
