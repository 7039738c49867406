package io.laai.edge;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.laai.LaaiConfig;
import io.laai.ModelService;
import io.laai.model.ContinuousGenerator;
import io.laai.model.Generator;

/**
 * The edge's generation: one {@link ContinuousGenerator} over the loaded model, so concurrent
 * requests, with different interventions or none, share every decode step (up to
 * laai.edge.max-batch rows), joining and leaving at token granularity.
 */
@ApplicationScoped
public class GenerationService {

    @Inject
    ModelService models;

    @Inject
    LaaiConfig config;

    private ContinuousGenerator generator;

    public CompletableFuture<Generator.Result> submit(Generator.Request request) {
        return submit(request, null);
    }

    /** onText, when given, receives the completion as it grows (never half a UTF-8 character). */
    public CompletableFuture<Generator.Result> submit(Generator.Request request, Consumer<String> onText) {
        return generator().submit(request, onText);
    }

    private synchronized ContinuousGenerator generator() {
        if (generator == null) {
            generator = new ContinuousGenerator(models.model(), config.edge().maxBatch(), config.edge().kvTokens());
        }
        return generator;
    }

    @PreDestroy
    synchronized void stop() {
        if (generator != null) {
            generator.close();
        }
    }
}
