package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import ai.djl.Device;
import io.laai.SharedData;

/** The transformers-written GPT-2 checkpoint loads and runs; its tokenizer matches llama.cpp's vectors. */
class Gpt2Test {

    @Test
    void fakeGpt2LoadsAndGenerates() {
        try (LanguageModel lm = LanguageModel.load(SharedData.model("gpt2-fake-hf"), Device.cpu())) {
            assertEquals(ModelConfig.Family.GPT2, lm.config().family());
            assertEquals(50257, lm.config().vocabSize());
            int[] ids = lm.tokenizer().encode("Hello world", false);
            float[] logits = Forward.logits(lm, ids, null);
            assertEquals(ids.length * 50257, logits.length);
            for (float v : logits) {
                assertTrue(Float.isFinite(v));
            }
            Generator.Result r = new Generator(lm).generate(
                    new Generator.Request("Hello world", SamplingParams.greedy(5), Steering.NONE));
            assertTrue(r.completionTokens() >= 1 && r.completionTokens() <= 5, r.toString());
            // KV-cache decoding and full recomputation agree on GPT-2's learned positions too.
            Generator.Result batched = new Generator(lm).generate(List.of(
                    new Generator.Request("Hello world", SamplingParams.greedy(5), Steering.NONE),
                    new Generator.Request("A much longer prompt than the other one", SamplingParams.greedy(5),
                            Steering.NONE)), null).get(0);
            assertEquals(r.text(), batched.text());
        }
    }

    @Test
    void tokenizerReproducesGpt2TestVectors() throws Exception {
        Path dir = SharedData.model("tokenizer-testvectors");
        String inputs = Files.readString(dir.resolve("ggml-vocab-gpt-2.gguf.inp.decoded"), StandardCharsets.UTF_8);
        // llama.cpp's format: every input is followed by a separator line.
        String separator = "\n__ggml_vocab_test__\n";
        assertTrue(inputs.endsWith(separator));
        String[] texts = inputs.substring(0, inputs.length() - separator.length()).split(separator, -1);
        List<String> expected = Files.readAllLines(dir.resolve("ggml-vocab-gpt-2.gguf.out"), StandardCharsets.UTF_8);
        assertEquals(44, expected.size());
        assertEquals(expected.size(), texts.length, "one expected line per input");
        try (LanguageModel lm = LanguageModel.load(SharedData.model("gpt2-fake-hf"), Device.cpu())) {
            for (int i = 0; i < texts.length; i++) {
                String line = expected.get(i).trim();
                int[] want = line.isEmpty() ? new int[0]
                        : Arrays.stream(line.split("\\s+")).mapToInt(Integer::parseInt).toArray();
                assertArrayEquals(want, lm.tokenizer().encode(texts[i], false), "input " + i + ": '" + texts[i] + "'");
            }
        }
    }
}
