package io.laai.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;

import io.laai.model.Devices;
import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The performance report: medians over repeated runs, never a pass/fail threshold. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure generation throughput (tokens/s, median of repeats) and peak RSS.")
public class BenchCommand implements Callable<Integer> {

    @Option(names = "--model", required = true)
    String model;

    @Option(names = "--tokens", defaultValue = "128", description = "tokens generated per prompt")
    int tokens;

    @Option(names = "--batch", split = ",", defaultValue = "1,32", description = "batch sizes to measure")
    List<Integer> batches;

    @Option(names = "--repeats", defaultValue = "5")
    int repeats;

    @Option(names = "--device", defaultValue = "auto")
    String device;

    @Override
    public Integer call() {
        try (LanguageModel lm = ModelOption.load(model, Devices.resolve(device))) {
            Generator generator = new Generator(lm);
            SamplingParams params = SamplingParams.greedy(tokens).withIgnoreEos(true);
            System.out.printf("model %s (%s), device %s, %d tokens per prompt, median of %d%n", lm.id(),
                    lm.config().family().id(), device, tokens, repeats);
            System.out.println("| batch | tokens/s (all rows) | tokens/s per row | ms per step |");
            System.out.println("| ---: | ---: | ---: | ---: |");
            for (int batch : batches) {
                List<Generator.Request> requests = new ArrayList<>();
                for (int i = 0; i < batch; i++) {
                    requests.add(new Generator.Request("Once upon a time", params, Steering.NONE));
                }
                generator.generate(requests, null); // warm-up
                List<Double> seconds = new ArrayList<>();
                for (int r = 0; r < repeats; r++) {
                    long start = System.nanoTime();
                    generator.generate(requests, null);
                    seconds.add((System.nanoTime() - start) / 1e9);
                }
                double median = median(seconds);
                System.out.printf("| %d | %.0f | %.0f | %.2f |%n", batch, batch * tokens / median, tokens / median,
                        1000 * median / tokens);
            }
            System.out.printf("peak RSS %.0f MiB%n", peakRssKb() / 1024.0);
        }
        return 0;
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static long peakRssKb() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM:"))
                    .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1L);
        } catch (IOException e) {
            return -1;
        }
    }
}
