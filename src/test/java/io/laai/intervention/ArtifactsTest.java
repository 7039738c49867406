package io.laai.intervention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import io.laai.SharedData;
import io.laai.model.GgufFile;
import io.laai.model.Generator;
import io.laai.model.HostTensor;
import io.laai.model.LanguageModel;
import io.laai.model.ModelFormatException;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;

class ArtifactsTest {

    static LanguageModel lm;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        lm = LanguageModel.load(SharedData.stories260K(), Device.cpu());
    }

    @AfterAll
    static void close() {
        if (lm != null) {
            lm.close();
        }
    }

    static Intervention random(Site site, Positions positions, long seed, int... layers) {
        Random r = new Random(seed);
        int width = Intervention.width(site, 64, 8, 8);
        TreeMap<Integer, float[]> deltas = new TreeMap<>();
        for (int l : layers) {
            float[] v = new float[width];
            for (int i = 0; i < width; i++) {
                v[i] = (float) r.nextGaussian() * 0.5f;
            }
            deltas.put(l, v);
        }
        return new Intervention("task-" + seed, 7, site, positions, deltas, lm.fingerprint(), 64, 8, 8,
                Map.of("train_loss", "0.25", "model_id", "stories260K.gguf"));
    }

    @Test
    void roundTripGivesTheSameInterventionAndTheSameGeneration() throws Exception {
        Intervention iv = random(Site.ATTN_HEADS, Positions.LAST, 1, 1, 3);
        Path file = dir.resolve("a.safetensors");
        Artifacts.write(iv, file);
        Intervention back = Artifacts.read(file);
        assertEquals(iv.task(), back.task());
        assertEquals(iv.version(), back.version());
        assertEquals(iv.site(), back.site());
        assertEquals(iv.positions(), back.positions());
        assertEquals(iv.deltas().keySet(), back.deltas().keySet());
        iv.deltas().forEach((l, v) -> assertArrayEquals(v, back.deltas().get(l)));
        assertEquals("0.25", back.metadata().get("train_loss"));
        Artifacts.requireCompatible(back, lm);
        Generator g = new Generator(lm);
        for (SamplingParams p : List.of(SamplingParams.greedy(25), new SamplingParams(25, 0.9, 0.95, 3, List.of(), false))) {
            assertEquals(g.generate(new Generator.Request("The cat", p, iv.steering(1.0))).text(),
                    g.generate(new Generator.Request("The cat", p, back.steering(1.0))).text());
        }
        assertTrue(!g.generate(new Generator.Request("The cat", SamplingParams.greedy(25), Steering.NONE)).text()
                .equals(g.generate(new Generator.Request("The cat", SamplingParams.greedy(25), iv.steering(4.0))).text()),
                "a strong intervention changes the text");
    }

    @Test
    void aConditionTravelsWithTheArtifactAndDecidesPerPrompt() throws Exception {
        Intervention plain = random(Site.ATTN_HEADS, Positions.LAST, 4, 0, 2);
        int[] named = lm.encodePrompt("The boy was named");
        int[] other = lm.encodePrompt("It was a rainy day and");
        float[] centroid = io.laai.model.Activations.lastTokenResiduals(lm, named)[2];
        Intervention iv = plain.withCondition(new Condition(2, centroid, 0.999));
        Path file = dir.resolve("c.safetensors");
        Artifacts.write(iv, file);
        Intervention back = Artifacts.read(file);
        assertEquals(2, back.condition().layer());
        assertEquals(0.999, back.condition().threshold());
        assertArrayEquals(centroid, back.condition().centroid());
        assertEquals(iv.metadata(), back.metadata(), "condition fields are not metadata");

        Steering s = back.steering(1.0);
        io.laai.model.Generator g = new io.laai.model.Generator(lm);
        io.laai.model.SamplingParams p = io.laai.model.SamplingParams.greedy(8);
        assertEquals(g.generate(new io.laai.model.Generator.Request("", named, p, plain.steering(1.0))).text(),
                g.generate(new io.laai.model.Generator.Request("", named, p, s)).text(), "it holds: Δ applies");
        assertEquals(g.generate(new io.laai.model.Generator.Request("", other, p, Steering.NONE)).text(),
                g.generate(new io.laai.model.Generator.Request("", other, p, s)).text(), "it does not: no Δ");

        byte[] bytes = Files.readAllBytes(file);
        String header = new String(bytes, 8, (int) java.nio.ByteBuffer.wrap(bytes, 0, 8)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(header.contains("\"condition_threshold\""), header);
        Map<String, String> meta = new java.util.LinkedHashMap<>(plain.metadata());
        meta.put("condition_layer", "2");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Artifacts.decode(Artifacts.encode(
                plain.withMetadata(meta)), "broken"));
        assertTrue(e.getMessage().contains("without a condition.centroid tensor"), e.getMessage());
    }

    /**
     * Two conditional members whose conditions both hold on a prompt: only the one it resembles
     * most applies, the other is named as left out; a member without a condition always applies.
     */
    @Test
    void aCompositionAppliesTheClosestConditionalMember() {
        int[] named = lm.encodePrompt("The boy was named");
        int[] girl = lm.encodePrompt("The girl was named");
        float[] boyState = io.laai.model.Activations.lastTokenResiduals(lm, named)[2];
        float[] girlState = io.laai.model.Activations.lastTokenResiduals(lm, girl)[2];
        Intervention boy = random(Site.RESIDUAL, Positions.LAST, 10, 1).withCondition(new Condition(2, boyState, -1));
        Intervention other = random(Site.RESIDUAL, Positions.LAST, 11, 3).withCondition(new Condition(2, girlState, -1));
        Intervention always = random(Site.RESIDUAL, Positions.LAST, 12, 4);
        assertTrue(boy.condition().holds(girlState) && other.condition().holds(boyState), "both hold on both prompts");
        Steering composed = Composition.of(Map.of(boy, 1.0, other, 1.0, always, 0.5));
        Steering onBoy = Steering.forPrompt(composed, lm, named);
        assertEquals(java.util.Set.of(other.task()), onBoy.conditionsUnmet());
        Steering expected = Composition.of(Map.of(boy.withCondition(null), 1.0, always, 0.5));
        for (int layer : new int[] {1, 3, 4}) {
            assertArrayEquals(expected.residual(layer), onBoy.residual(layer), "layer " + layer);
        }
        assertEquals(java.util.Set.of(boy.task()), Steering.forPrompt(composed, lm, girl).conditionsUnmet());
    }

    /**
     * A centered condition (as the trainer fits them: states less generic text's mean) travels
     * with its center and compares centered states: halfway between two prompts' states, the two
     * point in opposite directions, however alike the raw states are.
     */
    @Test
    void aCenteredConditionTravelsWithItsCenter() throws Exception {
        Intervention plain = random(Site.RESIDUAL, Positions.LAST, 4, 0, 2);
        float[] named = io.laai.model.Activations.lastTokenResiduals(lm, lm.encodePrompt("The boy was named"))[2];
        float[] other = io.laai.model.Activations.lastTokenResiduals(lm, lm.encodePrompt("It was a rainy day and"))[2];
        float[] center = new float[named.length];
        float[] centroid = new float[named.length];
        for (int i = 0; i < center.length; i++) {
            center[i] = (named[i] + other[i]) / 2;
            centroid[i] = named[i] - center[i];
        }
        Path file = dir.resolve("centered.safetensors");
        Artifacts.write(plain.withCondition(new Condition(2, centroid, center, 0.5)), file);
        Condition back = Artifacts.read(file).condition();
        assertArrayEquals(center, back.center());
        assertArrayEquals(centroid, back.centroid());
        assertTrue(back.holds(named));
        assertEquals(-1.0, Condition.cosine(back.centered(other), back.centroid()), 1e-5);
        assertTrue(!back.holds(other));
        assertTrue(Condition.cosine(named, other) > -0.5, "the raw states are not opposite");
        assertThrows(IllegalArgumentException.class, () -> new Condition(2, centroid, new float[3], 0.5));
    }

    @Test
    void anotherModelsArtifactIsRefused() {
        Intervention iv = random(Site.RESIDUAL, Positions.ALL, 2, 2);
        Intervention foreign = new Intervention(iv.task(), 1, iv.site(), iv.positions(), iv.deltas(),
                "sha256:0000", 64, 8, 8, Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Artifacts.requireCompatible(foreign, lm));
        assertTrue(e.getMessage().contains("was made for model sha256:0000, not for the loaded model"), e.getMessage());
    }

    @Test
    void brokenArtifactsAreRefused() throws Exception {
        byte[] good = Artifacts.encode(random(Site.RESIDUAL, Positions.ALL, 3, 1));
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Artifacts.decode(java.util.Arrays.copyOf(good, good.length - 4), "msg"));
        assertTrue(e.getMessage().startsWith("msg: "), e.getMessage());
        Map<String, HostTensor> nan = Map.of("delta.1", new HostTensor(new long[] {64}, new float[64]));
        nan.get("delta.1").data()[0] = Float.NaN;
        byte[] withNaN = io.laai.model.Safetensors.encode(nan, Map.of("format", Artifacts.FORMAT, "task", "t",
                "version", "1", "site", "residual", "positions", "all", "model_fingerprint", "x", "hidden_size", "64",
                "num_heads", "8"));
        e = assertThrows(ModelFormatException.class, () -> Artifacts.decode(withNaN, "nan"));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
        Map<String, String> badSpan = new java.util.HashMap<>(Map.of("format", Artifacts.FORMAT, "task", "t", "version", "1",
                "site", "residual", "positions", "last", "model_fingerprint", "x", "hidden_size", "64", "num_heads", "8"));
        badSpan.put(Intervention.SPAN_TOKENS, "0");
        byte[] zeroSpan = io.laai.model.Safetensors.encode(Map.of(), badSpan);
        e = assertThrows(ModelFormatException.class, () -> Artifacts.decode(zeroSpan, "span"));
        assertTrue(e.getMessage().contains("span: metadata span_tokens is '0', not a positive integer"), e.getMessage());
        byte[] notOurs = io.laai.model.Safetensors.encode(Map.of(), Map.of("format", "pt"));
        e = assertThrows(ModelFormatException.class, () -> Artifacts.decode(notOurs, "peft"));
        assertTrue(e.getMessage().contains("expected laai-intervention/1"), e.getMessage());
    }

    /** The span travels with the artifact; a sum steers as long as its longest member. */
    @Test
    void aSpanTravelsWithTheArtifact() {
        Intervention a = random(Site.RESIDUAL, Positions.LAST, 6, 1).withMetadata(Map.of(Intervention.SPAN_TOKENS, "3"));
        Intervention back = Artifacts.decode(Artifacts.encode(a), "a");
        assertEquals(3, back.span());
        assertEquals(3, back.steering(1.0).span());
        Intervention b = random(Site.RESIDUAL, Positions.LAST, 7, 2).withMetadata(Map.of(Intervention.SPAN_TOKENS, "5"));
        assertEquals(5, Composition.of(Map.of(a, 1.0, b, 1.0)).span());
        assertEquals(Integer.MAX_VALUE, Composition.of(Map.of(a, 1.0, random(Site.RESIDUAL, Positions.LAST, 8, 2), 1.0))
                .span(), "a member without a span steers every token");
        Intervention exportable = random(Site.RESIDUAL, Positions.ALL, 9, 1).withMetadata(Map.of(Intervention.SPAN_TOKENS,
                "2"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ControlVectors.encode(exportable));
        assertTrue(e.getMessage().contains("only span=all exports exactly"), e.getMessage());
    }

    @Test
    void composingTwoInterventionsEqualsTheirSum() {
        Intervention a = random(Site.ATTN_HEADS, Positions.LAST, 4, 1, 2);
        Intervention b = random(Site.ATTN_HEADS, Positions.LAST, 5, 2, 4);
        TreeMap<Integer, float[]> sum = new TreeMap<>();
        for (Intervention iv : List.of(a, b)) {
            iv.deltas().forEach((l, v) -> {
                float[] s = sum.computeIfAbsent(l, k -> new float[v.length]);
                for (int i = 0; i < v.length; i++) {
                    s[i] += v[i];
                }
            });
        }
        Intervention summed = new Intervention("sum", 1, Site.ATTN_HEADS, Positions.LAST, sum, lm.fingerprint(), 64, 8, 8,
                Map.of());
        Generator g = new Generator(lm);
        SamplingParams p = SamplingParams.greedy(30);
        assertEquals(g.generate(new Generator.Request("Lily saw", p, summed.steering(1.0))).text(),
                g.generate(new Generator.Request("Lily saw", p, Composition.of(Map.of(a, 1.0, b, 1.0)))).text());
    }

    @Test
    void exportsAControlVectorOnlyWhereExact() throws Exception {
        Intervention iv = random(Site.RESIDUAL, Positions.ALL, 6, 2, 4);
        Path out = dir.resolve("cv.gguf");
        ControlVectors.write(iv, out);
        GgufFile g = GgufFile.open(out);
        assertEquals("controlvector", g.string("general.architecture"));
        assertEquals(2, g.requireInt("controlvector.layer_count"));
        assertArrayEquals(iv.deltas().get(2), g.read("direction.2").data());
        assertArrayEquals(iv.deltas().get(4), g.read("direction.4").data());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ControlVectors.write(random(Site.ATTN_HEADS, Positions.ALL, 7, 2), dir.resolve("x.gguf")));
        assertTrue(e.getMessage().contains("only site=residual exports exactly"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ControlVectors.write(random(Site.RESIDUAL, Positions.LAST, 8, 2), dir.resolve("x.gguf")));
        assertTrue(e.getMessage().contains("only positions=all exports exactly"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ControlVectors.write(random(Site.RESIDUAL, Positions.ALL, 9, 0), dir.resolve("x.gguf")));
        assertTrue(e.getMessage().contains("layer 0"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve("x.gguf")));
    }
}
