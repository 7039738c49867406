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

    /** One request; returns {latency ns, completion tokens}. */
    private long[] send(int seed, String variant) throws Exception {
        String body = JSON.createObjectNode().put("prompt", "Once upon a time").put("max_tokens", tokens)
                .put("temperature", 0.8).put("seed", seed).put("task", variant).toString();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofMinutes(5));
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        long start = System.nanoTime();
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        long latency = System.nanoTime() - start;
        if (r.statusCode() != 200) {
            throw new CliException(url + " answered " + r.statusCode() + ": " + r.body());
        }
        JsonNode json = JSON.readTree(r.body());
        return new long[] {latency, json.path("usage").path("completion_tokens").asLong()};
    }
}
