package io.laai.model;

import java.util.Locale;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;

/**
 * laai.dtype / --dtype: what the engine stores the weight matrices in and multiplies them in.
 * Norms, softmax, the residual stream, the KV cache and every Δ stay float32. auto: float32 on
 * CPU (libtorch's half-precision matmul is slower there than float32), float16 on a GPU.
 * bfloat16 is refused: DJL 0.36's PyTorch binding aborts the process (std::terminate) on any
 * bfloat16 tensor, created or cast (tried on this build's libtorch 2.7.1).
 */
public final class WeightType {

    private WeightType() {
    }

    public static DataType resolve(String setting, Device device) {
        check(setting);
        return switch (setting.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
            case "f16", "float16" -> DataType.FLOAT16;
            default -> DataType.FLOAT32;
        };
    }

    /**
     * Refuses a setting that is not one of the types, naming it; without DJL's types, so the Java
     * engine's start-up checks it too (the Java engine holds weights in their file's precision).
     */
    public static void check(String setting) {
        switch (setting.trim().toLowerCase(Locale.ROOT)) {
            case "auto", "f32", "float32", "f16", "float16" -> {
            }
            case "bf16", "bfloat16" -> throw new IllegalArgumentException("laai.dtype=" + setting + " is not available: DJL's"
                    + " PyTorch binding (0.36) aborts the process on bfloat16 tensors; use f16 (or auto, f16 on a GPU)"
                    + " — a bf16 GGUF loads either way, its weights widened exactly");
            default -> throw new IllegalArgumentException("laai.dtype='" + setting + "' is not one of auto, f32, f16");
        }
    }

    /** The setting's name for a type (f32, f16). */
    public static String name(DataType type) {
        return type == DataType.FLOAT16 ? "f16" : "f32";
    }
}
