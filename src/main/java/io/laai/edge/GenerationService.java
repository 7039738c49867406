package io.laai.edge;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.laai.LaaiConfig;
import io.laai.ModelService;
import io.laai.model.Generator;

/**
 * One worker owns generation. Requests that wait together share one batched generation (up to
 * laai.edge.max-batch rows, each with its own sampling and intervention), so throughput grows
 * with concurrency; a batch runs until its longest row ends.
 */
@ApplicationScoped
public class GenerationService {

    private static final Logger LOG = Logger.getLogger(GenerationService.class);

    private record Pending(Generator.Request request, Consumer<String> onText, CompletableFuture<Generator.Result> result) {
    }

    @Inject
    ModelService models;

    @Inject
    LaaiConfig config;

    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private Thread worker;

    public CompletableFuture<Generator.Result> submit(Generator.Request request) {
        return submit(request, null);
    }

    /** onText, when given, receives the completion as it grows (never half a UTF-8 character). */
    public synchronized CompletableFuture<Generator.Result> submit(Generator.Request request, Consumer<String> onText) {
        if (worker == null) {
            worker = new Thread(this::run, "laai-generation");
            worker.setDaemon(true);
            worker.start();
        }
        CompletableFuture<Generator.Result> f = new CompletableFuture<>();
        queue.add(new Pending(request, onText, f));
        return f;
    }

    private void run() {
        Generator generator = new Generator(models.model());
        while (!Thread.currentThread().isInterrupted()) {
            List<Pending> batch = new ArrayList<>();
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            queue.drainTo(batch, config.edge().maxBatch() - 1);
            try {
                // Decoding text every step costs; only streamed batches pay for it.
                Generator.Listener listener = batch.stream().anyMatch(p -> p.onText != null)
                        ? (row, delta) -> {
                            Consumer<String> c = batch.get(row).onText;
                            if (c != null) {
                                c.accept(delta);
                            }
                        }
                        : null;
                List<Generator.Result> results = generator.generate(batch.stream().map(Pending::request).toList(), listener);
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).result.complete(results.get(i));
                }
            } catch (IllegalArgumentException e) {
                // One row's input was refused (for instance a prompt longer than the context): answer each alone.
                for (Pending p : batch) {
                    try {
                        p.result.complete(generator.generate(List.of(p.request),
                                p.onText == null ? null : (row, delta) -> p.onText.accept(delta)).get(0));
                    } catch (RuntimeException one) {
                        p.result.completeExceptionally(one);
                    }
                }
            } catch (RuntimeException e) {
                LOG.error("Generation failed", e);
                batch.forEach(p -> p.result.completeExceptionally(e));
            }
        }
    }

    @PreDestroy
    synchronized void stop() {
        if (worker != null) {
            worker.interrupt();
        }
    }
}
