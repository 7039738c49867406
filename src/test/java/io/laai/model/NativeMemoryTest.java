package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import ai.djl.ndarray.BaseNDManager;

/**
 * A long generation holds only its KV cache: the number of live native arrays is the same at
 * token 1,000 and token 9,000, none outlive the request, and repeated requests do not grow the process.
 */
class NativeMemoryTest {

    @TempDir
    Path dir;

    @Test
    void tenThousandTokensDoNotGrowNativeMemory() throws IOException {
        Path gguf = TinyModels.llamaGguf(dir.resolve("long.gguf"), GgufFile.GgmlType.F32, 5, 12_000);
        try (LanguageModel lm = LanguageModel.load(gguf, Device.cpu())) {
            BaseNDManager manager = (BaseNDManager) lm.transformer().manager();
            int before = manager.getManagedArrays().size();
            int[] seen = new int[2];
            int[] steps = {0};
            Generator.Listener probe = (row, delta) -> {
                steps[0]++;
                int slot = steps[0] == 1_000 ? 0 : steps[0] == 9_000 ? 1 : -1;
                if (slot >= 0) {
                    seen[slot] = manager.getManagedArrays().size();
                }
            };
            SamplingParams params = new SamplingParams(10_000, 1.0, 1.0, 11, List.of(), true);
            Generator.Result r = new Generator(lm).generate(
                    List.of(new Generator.Request("Once upon a time", params, Steering.NONE)), probe).get(0);
            assertEquals(10_000, r.completionTokens());
            assertEquals(seen[0], seen[1], "live native arrays at token 1,000 and 9,000");
            assertEquals(before, manager.getManagedArrays().size(), "no native array outlives the request");
            // Steady state across requests: a second and third long request leave the process no larger.
            SamplingParams shorter = new SamplingParams(3_000, 1.0, 1.0, 12, List.of(), true);
            Generator.Request request = new Generator.Request("The dog", shorter, Steering.NONE);
            new Generator(lm).generate(request);
            long first = rssKb();
            new Generator(lm).generate(request);
            new Generator(lm).generate(request);
            long grown = rssKb() - first;
            assertTrue(grown < 32 * 1024, "RSS grew " + grown + " kB over two more 3,000-token requests");
        }
    }

    private static long rssKb() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                    .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(0L);
        } catch (IOException e) {
            return 0;
        }
    }
}
