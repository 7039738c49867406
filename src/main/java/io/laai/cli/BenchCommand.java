package io.laai.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.laai.model.Devices;
import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.SamplingParams;
import io.laai.model.Steering;
import io.laai.train.Demonstration;
import io.laai.train.TaskFile;
import io.laai.train.TrainConfig;
import io.laai.train.TrainResult;
import io.laai.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The performance report: medians over repeated runs, never a pass/fail threshold. */
@Command(name = "bench", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Measure generation throughput (tokens/s), training time (with --demos), the trainer role (with --stream)"
                + " and peak RSS; medians of repeats.")
public class BenchCommand implements Callable<Integer> {

    @Option(names = "--engine", split = ",", defaultValue = "java,djl", description = "with --model: the engines to "
            + "measure (java, djl); more than one: each in a process of its own, so that each peak RSS is its own, and a "
            + "table side by side")
    List<String> engines;

    @Option(names = "--threads", description = "the Java engine's threads (default: every CPU the process may use)")
    Integer threads;

    @Option(names = "--model", description = "measure the runtime in this process (GGUF file, checkpoint or hf: id)")
    String model;

    @Option(names = "--url", description = "measure a running service's POST /v1/generate instead, e.g. http://localhost:8080")
    String url;

    @Option(names = "--clients", split = ",", defaultValue = "1,8,32", description = "with --url: concurrent clients")
    List<Integer> clients;

    @Option(names = "--task", description = "with --url: also measure with this task's intervention applied")
    String task;

    @Option(names = "--api-key", description = "with --url: bearer key, where the service requires one")
    String apiKey;

    @Option(names = "--mixed", description = "with --url: mixed load for --duration seconds per client count: short and "
            + "~4,500-character prompts, base and --task, counting answers by status")
    boolean mixed;

    @Option(names = "--duration", defaultValue = "60", description = "with --mixed: seconds of load per client count")
    int duration;

    @Option(names = "--server-pid", description = "with --mixed: the service's process id, to report its peak RSS (same machine)")
    Long serverPid;

    @Option(names = "--competing-load", defaultValue = "0", description = "busy threads spinning beside the generation "
            + "rows, as another process on a shared machine would")
    int competingLoad;

    @Option(names = "--tokens", defaultValue = "128", description = "tokens generated per prompt")
    int tokens;

    @Option(names = "--batch", split = ",", defaultValue = "1,32", description = "batch sizes to measure")
    List<Integer> batches;

    @Option(names = "--repeats", defaultValue = "5", description = "rounds per measurement; the median is reported")
    int repeats;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or gpu")
    String device;

    @Option(names = "--dtype", defaultValue = "auto", description = "weight matrices in auto (f32 on CPU, f16 on a GPU), f32 or f16")
    String dtype;

    @Option(names = "--demos", description = "also time training on these demonstrations (JSONL {prompt, completion})")
    Path demos;

    @Option(names = "--stream", description = "also measure the trainer role on an embedded broker with this task file"
            + " (JSONL {task, train, test}): produce-to-published latency, validation-path rate, batched training")
    Path stream;

    @Option(names = "--stream-batches", defaultValue = "20", description = "with --stream: batches timed one at a time")
    int streamBatches;

    @Option(names = "--flood", defaultValue = "20000", description = "with --stream: batches pushed through the validation path")
    int flood;

    @Override
    public Integer call() throws Exception {
        if (url != null) {
            HttpLoad load = new HttpLoad(url, apiKey, tokens, repeats);
            return mixed ? load.mixed(clients, task, Duration.ofSeconds(duration), serverPid) : load.run(clients, task);
        }
        if (model == null) {
            throw new CliException("bench needs --model (the runtime in this process) or --url (a running service)");
        }
        if (engines.size() > 1) {
            return sideBySide();
        }
        io.laai.model.Engine.Kind kind = io.laai.model.Engine.Kind.parse(engines.get(0), device);
        boolean training = demos != null || stream != null;
        io.laai.model.Engine.Choice choice = new io.laai.model.Engine.Choice(kind, training,
                threads != null ? threads : io.laai.model.EngineThreads.cpus());
        // The Java engine alone never loads libtorch, not even to look for a GPU.
        try (LanguageModel lm = kind == io.laai.model.Engine.Kind.JAVA && !training
                ? ModelOption.loadJava(model, dtype, choice.threads())
                : ModelOption.load(model, Devices.resolve(device), dtype, null, choice)) {
            Generator generator = new Generator(lm);
            SamplingParams params = SamplingParams.greedy(tokens).withIgnoreEos(true);
            System.out.printf("model %s (%s), engine %s, %d tokens per prompt, median of %d, libtorch threads intra/inter-op "
                    + "%s/%s, %d competing busy threads%n", lm.id(), lm.config().family().id(), lm.engine().describe(), tokens,
                    repeats, System.getProperty("ai.djl.pytorch.num_threads"),
                    System.getProperty("ai.djl.pytorch.num_interop_threads"), competingLoad);
            java.util.concurrent.atomic.AtomicBoolean spinning = new java.util.concurrent.atomic.AtomicBoolean(true);
            for (int i = 0; i < competingLoad; i++) {
                Thread busy = new Thread(() -> {
                    long x = 0;
                    while (spinning.get()) {
                        x += System.nanoTime() % 7;
                    }
                    if (x == 42) {
                        System.out.print("");
                    }
                }, "competing-load-" + i);
                busy.setDaemon(true);
                busy.start();
            }
            System.out.println("| batch | tokens/s (all rows) | tokens/s per row | ms per step |");
            System.out.println("| ---: | ---: | ---: | ---: |");
            Progress progress = Progress.onTerminal();
            for (int batch : batches) {
                List<Generator.Request> requests = new ArrayList<>();
                for (int i = 0; i < batch; i++) {
                    requests.add(new Generator.Request("Once upon a time", params, Steering.NONE));
                }
                // Warm up for at least two seconds, then until a round is no faster than the one
                // before (at most 50 rounds): the JIT compiles the engine's loops on the same cores
                // the first rounds run on, and Vector API code runs far slower until C2 has it.
                double previous = Double.MAX_VALUE;
                long warmStart = System.nanoTime();
                for (int w = 0; w < 50; w++) {
                    long start = System.nanoTime();
                    generator.generate(requests, null);
                    double took = (System.nanoTime() - start) / 1e9;
                    if (System.nanoTime() - warmStart > 2_000_000_000L && took > 0.95 * previous) {
                        break;
                    }
                    previous = Math.min(previous, took);
                }
                List<Double> seconds = new ArrayList<>();
                for (int r = 0; r < repeats; r++) {
                    progress.show("generating " + batch + " prompts: round " + (r + 1) + " of " + repeats);
                    long start = System.nanoTime();
                    generator.generate(requests, null);
                    seconds.add((System.nanoTime() - start) / 1e9);
                }
                progress.done();
                double median = median(seconds);
                System.out.printf("| %d | %.0f | %.0f | %.2f |%n", batch, batch * tokens / median, tokens / median,
                        1000 * median / tokens);
            }
            spinning.set(false);
            if (demos != null) {
                benchTraining(lm);
            }
            if (stream != null) {
                new StreamBench(lm, stream, streamBatches, flood).run();
            }
            System.out.printf("peak RSS %.0f MiB%n", peakRssKb() / 1024.0);
        }
        return 0;
    }

    /**
     * Runs this command once per engine, each in a child JVM started as this one was, and prints
     * their throughput and peak RSS side by side.
     */
    private int sideBySide() throws Exception {
        if (demos != null || stream != null) {
            throw new CliException("--demos and --stream measure training: give one --engine with them");
        }
        ProcessHandle.Info self = ProcessHandle.current().info();
        if (self.command().isEmpty() || self.arguments().isEmpty()) {
            throw new CliException("cannot read this process's command line to start one per engine; run bench once per"
                    + " --engine instead");
        }
        Map<String, Map<Integer, Double>> perEngine = new java.util.LinkedHashMap<>();
        Map<String, Double> rss = new java.util.LinkedHashMap<>();
        for (String engine : engines) {
            List<String> command = new ArrayList<>();
            command.add(self.command().get());
            String[] args = self.arguments().get();
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals("--engine") && i + 1 < args.length) {
                    i++;
                    continue;
                }
                if (!args[i].startsWith("--engine=")) {
                    command.add(args[i]);
                }
            }
            command.add("--engine=" + engine);
            System.out.println("## engine " + engine);
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            Map<Integer, Double> rows = new java.util.TreeMap<>();
            try (java.io.BufferedReader out = p.inputReader()) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.contains("WARN") || line.contains("INFO")) {
                        continue; // the child's log lines; its report is what counts
                    }
                    System.out.println(line);
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\| (\\d+) \\| (\\d+) \\|").matcher(line);
                    if (m.find()) {
                        rows.put(Integer.parseInt(m.group(1)), Double.parseDouble(m.group(2)));
                    }
                    if (line.startsWith("peak RSS ")) {
                        rss.put(engine, Double.parseDouble(line.replaceAll("\\D", "")));
                    }
                }
            }
            if (p.waitFor() != 0) {
                throw new CliException("bench --engine " + engine + " failed (exit " + p.exitValue() + ")");
            }
            perEngine.put(engine, rows);
        }
        System.out.println("## side by side");
        StringBuilder head = new StringBuilder("| batch |");
        StringBuilder rule = new StringBuilder("| ---: |");
        for (String e : engines) {
            head.append(" ").append(e).append(" tokens/s |");
            rule.append(" ---: |");
        }
        String first = engines.get(0);
        String last = engines.get(engines.size() - 1);
        System.out.println(head + " " + first + " / " + last + " |");
        System.out.println(rule + " ---: |");
        for (int batch : batches) {
            StringBuilder row = new StringBuilder("| " + batch + " |");
            for (String e : engines) {
                row.append(String.format(" %.0f |", perEngine.get(e).getOrDefault(batch, Double.NaN)));
            }
            row.append(String.format(" %.2f× |", perEngine.get(first).getOrDefault(batch, Double.NaN)
                    / perEngine.get(last).getOrDefault(batch, Double.NaN)));
            System.out.println(row);
        }
        StringBuilder peak = new StringBuilder("| peak RSS (MiB) |");
        for (String e : engines) {
            peak.append(String.format(" %.0f |", rss.getOrDefault(e, Double.NaN)));
        }
        System.out.println(peak + " |");
        return 0;
    }

    private void benchTraining(LanguageModel lm) {
        List<Demonstration> list = TaskFile.readDemonstrations(demos);
        Trainer trainer = new Trainer(lm);
        List<Double> seconds = new ArrayList<>();
        List<Double> steps = new ArrayList<>();
        for (String validation : List.of("none", "auto")) {
            TrainConfig cfg = TrainConfig.DEFAULTS.with(Map.of("validation", validation));
            trainer.train("bench", 1, list, cfg, null, null); // warm-up
            seconds.clear();
            steps.clear();
            Progress progress = Progress.onTerminal();
            for (int r = 0; r < repeats; r++) {
                long start = System.nanoTime();
                TrainResult result = trainer.train("bench", 1, list, cfg, null,
                        progress.training("training, validation " + validation + ", round " + (r + 1) + " of " + repeats));
                seconds.add((System.nanoTime() - start) / 1e9);
                steps.add((double) result.steps());
            }
            progress.done();
            System.out.printf("training on %d demonstrations, validation %s: median %.2f s, %.0f steps (%.1f ms/step)%n",
                    list.size(), validation, median(seconds), median(steps),
                    validation.equals("none") ? 1000 * median(seconds) / median(steps) : Double.NaN);
        }
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** Nearest-rank percentile (p in (0, 1]); NaN for no values. */
    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1));
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
