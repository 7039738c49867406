package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import io.laai.SharedData;

/**
 * The stories260K weights written as a Hugging Face Llama checkpoint (from llama2.c's .bin, Q/K
 * permuted as transformers stores them) must give the GGUF's logits and greedy text.
 */
class CheckpointEquivalenceTest {

    @TempDir
    Path dir;

    @Test
    void hfCheckpointMatchesGguf() throws Exception {
        Path gguf = SharedData.stories260K();
        Path bin = SharedData.model("stories260K/stories260K.bin");
        String tokenizerJson = GgufTokenizer.toTokenizerJson(GgufFile.open(gguf));
        Llama2cCheckpoint.writeHfCheckpoint(bin, tokenizerJson, dir);
        try (LanguageModel a = LanguageModel.load(gguf, Device.cpu());
                LanguageModel b = LanguageModel.load(dir, Device.cpu())) {
            int[] ids = a.tokenizer().encode("Once upon a time, there was a little dog who liked to run", true);
            float[] la = Forward.logits(a, ids, null);
            float[] lb = Forward.logits(b, ids, null);
            float diff = Forward.maxAbsDiff(la, lb);
            assertTrue(diff <= 1e-5f, "max |logit difference| = " + diff);
            SamplingParams greedy = SamplingParams.greedy(40);
            String ta = new Generator(a).generate(new Generator.Request("Once upon a time", greedy, Steering.NONE)).text();
            String tb = new Generator(b).generate(new Generator.Request("Once upon a time", greedy, Steering.NONE)).text();
            assertEquals(ta, tb);
            assertEquals(a.fingerprint(), b.fingerprint(), "same weights, same fingerprint");
        }
    }
}
