package io.laai.cli;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Load on a running service's POST /v1/generate: each client sends requests back to back; reports
 * aggregate completion tokens/s and p50/p99 latency, without and with an intervention.
 */
final class HttpLoad {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String url;
    private final String apiKey;
    private final int tokens;
    private final int requestsPerClient;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    HttpLoad(String url, String apiKey, int tokens, int requestsPerClient) {
        this.url = url.replaceAll("/+$", "") + "/v1/generate";
        this.apiKey = apiKey;
        this.tokens = tokens;
        this.requestsPerClient = requestsPerClient;
    }

    int run(List<Integer> clientCounts, String task) throws Exception {
        System.out.printf("POST %s, %d tokens per request, %d requests per client%n", url, tokens, requestsPerClient);
        System.out.println("| clients | intervention | tokens/s (all) | p50 ms | p99 ms |");
        System.out.println("| ---: | --- | ---: | ---: | ---: |");
        List<String> variants = new ArrayList<>();
        variants.add(null);
        if (task != null) {
            variants.add(task);
        }
        // Warm the JIT and the service on both variants first, so neither is measured cold.
        for (int i = 0; i < 20; i++) {
            for (String variant : variants) {
                send(i, variant);
            }
        }
        for (int clients : clientCounts) {
            for (String variant : variants) {
                measure(clients, variant);
            }
        }
        return 0;
    }

    private void measure(int clients, String variant) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<List<long[]>>> futures = new ArrayList<>();
            long start = System.nanoTime();
            for (int c = 0; c < clients; c++) {
                int seed = c;
                futures.add(pool.submit(() -> {
                    List<long[]> out = new ArrayList<>();
                    for (int r = 0; r < requestsPerClient; r++) {
                        out.add(send(seed * 1000 + r, variant));
                    }
                    return out;
                }));
            }
            List<Long> latencies = new ArrayList<>();
            long generated = 0;
            for (Future<List<long[]>> f : futures) {
                for (long[] x : f.get()) {
                    latencies.add(x[0]);
                    generated += x[1];
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Collections.sort(latencies);
            System.out.printf("| %d | %s | %.0f | %.0f | %.0f |%n", clients, variant == null ? "none" : variant,
                    generated / seconds, latencies.get(latencies.size() / 2) / 1e6,
                    BenchCommand.percentile(latencies.stream().map(ns -> ns / 1e6).toList(), 0.99));
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Mixed load: each client sends, back to back until the time is up, a short or a ~4,500-character
     * prompt, with or without the task, chosen at random; answers are counted by status class,
     * and the service's peak RSS is read from /proc when its pid is given.
     */
    int mixed(List<Integer> clientCounts, String task, Duration duration, Long serverPid) throws Exception {
        String longPrompt = "Once upon a time, there was a little girl named Lily. ".repeat(84);
        System.out.printf("POST %s, mixed load for %d s per client count, %d tokens per request%n", url, duration.toSeconds(),
                tokens);
        System.out.println("| clients | requests | 200 | 429 | 503 | other 4xx | 5xx | failed | tokens/s | p50 ms | p99 ms | server peak RSS |");
        System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (int clients : clientCounts) {
            if (serverPid != null) {
                java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/" + serverPid + "/clear_refs"), "5");
            }
            long end = System.nanoTime() + duration.toNanos();
            java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> counts =
                    new java.util.concurrent.ConcurrentHashMap<>();
            List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
            java.util.concurrent.atomic.LongAdder generated = new java.util.concurrent.atomic.LongAdder();
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            long start = System.nanoTime();
            try {
                List<Future<?>> all = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    java.util.Random random = new java.util.Random(c);
                    all.add(pool.submit(() -> {
                        while (System.nanoTime() < end) {
                            String prompt = random.nextInt(4) == 0 ? longPrompt + random.nextInt(1000) : "Once upon a time";
                            String variant = task != null && random.nextBoolean() ? task : null;
                            String key;
                            try {
                                long t0 = System.nanoTime();
                                HttpResponse<String> r = post(prompt, random.nextInt(1 << 20), variant);
                                int s = r.statusCode();
                                key = s == 200 ? "200" : s == 429 ? "429" : s == 503 ? "503" : s >= 500 ? "5xx" : "4xx";
                                if (s == 200) {
                                    latencies.add(System.nanoTime() - t0);
                                    generated.add(JSON.readTree(r.body()).path("usage").path("completion_tokens").asLong());
                                } else if (s == 429 || s == 503) {
                                    Thread.sleep(200); // as a client honouring Retry-After would, briefly
                                }
                            } catch (java.io.IOException e) {
                                key = "failed";
                            }
                            counts.computeIfAbsent(key, k -> new java.util.concurrent.atomic.LongAdder()).increment();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : all) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            List<Double> ms = new ArrayList<>(latencies.stream().map(ns -> ns / 1e6).sorted().toList());
            long total = counts.values().stream().mapToLong(java.util.concurrent.atomic.LongAdder::sum).sum();
            java.util.function.Function<String, Long> n = k -> counts.containsKey(k) ? counts.get(k).sum() : 0L;
            System.out.printf("| %d | %d | %d | %d | %d | %d | %d | %d | %.0f | %s | %s | %s |%n", clients, total, n.apply("200"),
                    n.apply("429"), n.apply("503"), n.apply("4xx"), n.apply("5xx"), n.apply("failed"), generated.sum() / seconds,
                    ms.isEmpty() ? "-" : String.format("%.0f", ms.get(ms.size() / 2)),
                    ms.isEmpty() ? "-" : String.format("%.0f", BenchCommand.percentile(ms, 0.99)),
                    serverPid == null ? "-" : peakRss(serverPid));
        }
        return 0;
    }

    private static String peakRss(long pid) throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmHWM:")) {
                return (Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024) + " MiB";
            }
        }
        return "?";
    }

    private HttpResponse<String> post(String prompt, int seed, String variant) throws Exception {
        String body = JSON.createObjectNode().put("prompt", prompt).put("max_tokens", tokens)
                .put("temperature", 0.8).put("seed", seed).put("task", variant).toString();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofMinutes(5));
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** One request; returns {latency ns, completion tokens}. */
    private long[] send(int seed, String variant) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r = post("Once upon a time", seed, variant);
        long latency = System.nanoTime() - start;
        if (r.statusCode() != 200) {
            throw new CliException(url + " answered " + r.statusCode() + ": " + r.body());
        }
        JsonNode json = JSON.readTree(r.body());
        return new long[] {latency, json.path("usage").path("completion_tokens").asLong()};
    }
}
