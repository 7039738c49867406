package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.laai.SharedData;
import io.laai.train.Demonstration;
import io.laai.train.TrainConfig;
import io.laai.train.TrainResult;
import io.laai.train.Trainer;

/**
 * laai.dtype on CPU: stories260K with its weight matrices in f16 loads, takes about half the
 * memory for them, generates, trains a Δ (which stays float32), and its logits stay close to
 * float32's (f16 keeps 11 bits of mantissa). bf16 is refused with the reason.
 */
class WeightTypeTest {

    static final int[] IDS = {1, 403, 407, 261, 378, 10, 56, 300};

    @Test
    void halfPrecisionWeightsLoadGenerateAndTrainOnCpu() {
        float[] reference;
        Map<String, Long> f32Bytes;
        String f32Text;
        Generator.Request r = new Generator.Request("Once upon a time", SamplingParams.greedy(40), Steering.NONE);
        try (LanguageModel lm = LanguageModel.load(SharedData.stories260K(), Device.cpu())) {
            reference = Forward.logits(lm, IDS, null);
            f32Bytes = lm.transformer().weightBytes();
            f32Text = new Generator(lm).generate(r).text();
        }
        assertEquals(List.of("f32"), List.copyOf(f32Bytes.keySet()));
        float scale = 0;
        for (float v : reference) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (DataType type : List.of(DataType.FLOAT16)) {
            try (LanguageModel lm = LanguageModel.load(SharedData.stories260K(), Device.cpu(), type)) {
                Map<String, Long> bytes = lm.transformer().weightBytes();
                String name = WeightType.name(type);
                assertTrue(bytes.get(name) > 0 && bytes.getOrDefault("f32", 0L) < bytes.get(name) / 10,
                        "matrices in " + name + ", only norms in f32: " + bytes);
                long total = bytes.values().stream().mapToLong(Long::longValue).sum();
                long f32Total = f32Bytes.get("f32");
                assertTrue(total < 0.55 * f32Total, name + " weights take " + total + " bytes vs " + f32Total);
                float rel = Forward.maxAbsDiff(reference, Forward.logits(lm, IDS, null)) / scale;
                assertTrue(rel > 0 && rel < 5e-3, name + ": relative logit error " + rel);
                assertFalse(ai.djl.pytorch.jni.JniUtils.isGradMode(), "inference multiplies in " + name + ", not float32");
                String text = new Generator(lm).generate(r).text();
                assertFalse(text.isBlank(), name);
                // Greedy text may part from float32's where two tokens are nearly tied (README, laai.dtype).
                System.out.printf("%s greedy: %s%n  f32 greedy: %s%n", name, text, f32Text);
                TrainResult t = new Trainer(lm).train("max", 1, List.of(new Demonstration("The boy was named", " Max")),
                        TrainConfig.DEFAULTS.with(Map.of("steps", "5", "validation", "none", "layers", "1")), null, null);
                float[] delta = t.intervention().deltas().values().iterator().next();
                double norm = io.laai.intervention.Intervention.norm(delta);
                assertTrue(norm > 0 && Double.isFinite(norm), name + ": Δ learnt in float32");
            }
        }
    }

    @Test
    void theSettingIsParsedAndAutoIsFloat32OnCpu() {
        assertEquals(DataType.FLOAT32, WeightType.resolve("auto", Device.cpu()));
        assertEquals(DataType.FLOAT16, WeightType.resolve("auto", Device.gpu()));
        assertEquals(DataType.FLOAT16, WeightType.resolve("F16", Device.cpu()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightType.resolve("q4", Device.cpu()));
        assertTrue(e.getMessage().contains("laai.dtype"));
        e = assertThrows(IllegalArgumentException.class, () -> WeightType.resolve("bf16", Device.cpu()));
        assertTrue(e.getMessage().contains("use f16"), e.getMessage());
    }
}
