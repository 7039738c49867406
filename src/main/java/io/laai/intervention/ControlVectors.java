package io.laai.intervention;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Exports an intervention as a llama.cpp control vector: GGUF with {@code general.architecture =
 * controlvector} and one f32 tensor {@code direction.<layer>} of length D per layer. llama.cpp adds
 * direction.N to the output of (0-based) layer N at every position, which is exactly LAAI's
 * residual site with positions "all"; it has no slot for layer 0. Anything else is refused.
 */
public final class ControlVectors {

    private static final int ALIGNMENT = 32;

    private ControlVectors() {
    }

    public static void write(Intervention iv, Path file) throws IOException {
        io.laai.model.Safetensors.writeAtomically(file, encode(iv));
    }

    /** The control vector's bytes; refuses, with the reason, what would not export exactly. */
    public static byte[] encode(Intervention iv) {
        if (iv.site() != Site.RESIDUAL) {
            throw new IllegalArgumentException("task " + iv.task() + " intervenes at " + iv.site().id()
                    + "; a llama.cpp control vector adds to the residual stream, so only site=residual exports exactly");
        }
        if (iv.positions() != Positions.ALL) {
            throw new IllegalArgumentException("task " + iv.task() + " applies Δ at positions=" + iv.positions().id()
                    + "; llama.cpp applies control vectors at every position, so only positions=all exports exactly");
        }
        if (iv.condition() != null) {
            throw new IllegalArgumentException("task " + iv.task() + " applies only to prompts its condition accepts;"
                    + " llama.cpp applies control vectors to every prompt, so only condition=false exports exactly");
        }
        if (iv.span() != Integer.MAX_VALUE) {
            throw new IllegalArgumentException("task " + iv.task() + " steers only the first " + iv.span()
                    + " generated tokens; llama.cpp applies control vectors to every token, so only span=all exports exactly");
        }
        if (iv.deltas().containsKey(0) && Intervention.norm(iv.deltas().get(0)) > 0) {
            throw new IllegalArgumentException("task " + iv.task() + " has a non-zero Δ at layer 0, which llama.cpp"
                    + " control vectors cannot address (direction.N starts at 1); train with `train --export llama.cpp`, which leaves"
                    + " layer 0 out");
        }
        Map<Integer, float[]> layers = new java.util.TreeMap<>(iv.deltas());
        layers.remove(0);
        ByteBuffer header = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        header.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(layers.size()).putLong(3);
        string(header, "general.architecture");
        header.putInt(8);
        string(header, "controlvector");
        string(header, "controlvector.model_hint");
        header.putInt(8);
        string(header, iv.metadata().getOrDefault("model_id", "unknown"));
        string(header, "controlvector.layer_count");
        header.putInt(4).putInt(layers.size());
        long offset = 0;
        for (Map.Entry<Integer, float[]> e : layers.entrySet()) {
            string(header, "direction." + e.getKey());
            header.putInt(1).putLong(e.getValue().length).putInt(0).putLong(offset);
            offset += align(4L * e.getValue().length);
        }
        int headerLen = (int) align(header.position());
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(headerLen + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.put(header.array(), 0, header.position());
        out.position(headerLen);
        for (float[] v : layers.values()) {
            int start = out.position();
            for (float x : v) {
                out.putFloat(x);
            }
            out.position((int) (start + align(4L * v.length)));
        }
        return out.array();
    }

    private static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void string(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }
}
