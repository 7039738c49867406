package io.laai.edge;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import org.jboss.logging.Logger;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.laai.LaaiConfig;
import io.laai.Role;
import io.laai.model.LanguageModel;
import io.laai.model.MemoryEstimate;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;
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

    private static final Logger LOG = Logger.getLogger(GenerationService.class);
    /** Share of the memory left beside the heap and the weights that the edge takes by default (the trainer takes as much). */
    static final double EDGE_SHARE = 0.4;

    @Inject
    ModelService models;

    @Inject
    LaaiConfig config;

    @Inject
    io.laai.Lifecycle lifecycle;

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
            ContinuousGenerator g = create(models.model(), config.edge());
            generator = g;
            lifecycle.opened("edge generation", () -> {
                int cut = g.drain(config.edge().drainTimeout());
                if (cut > 0) {
                    LOG.warnf("%d generations did not finish within laai.edge.drain-timeout; they ended with 503", cut);
                }
            });
        }
        return generator;
    }

    /** The edge's generator within its memory budget; a budget too small for its settings stops start-up. */
    static ContinuousGenerator create(LanguageModel model, LaaiConfig.Edge edge) {
        MemoryEstimate memory = new MemoryEstimate(model.config());
        long budget = edge.memoryBudget().map(m -> m.asLongValue()).orElseGet(() -> memory.defaultBudget(EDGE_SHARE));
        ContinuousGenerator.Admission admission = new ContinuousGenerator.Admission(budget, edge.prefillChunk(),
                edge.maxQueued(), edge.requestTimeout());
        try {
            ContinuousGenerator g = new ContinuousGenerator(model, edge.maxBatch(), edge.kvTokens(), admission);
            LOG.infof("Edge generation: memory budget %s%s (KV cache %s), %d rows, %d waiting at most, prefill %d tokens per pass",
                    MemoryEstimate.mib(budget), edge.memoryBudget().isPresent() ? "" : " (default)",
                    MemoryEstimate.mib(memory.kvCacheBytes(edge.maxBatch(), Math.min(edge.kvTokens(),
                            model.config().maxPositionEmbeddings()))), edge.maxBatch(), edge.maxQueued(), edge.prefillChunk());
            return g;
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(e.getMessage());
        }
    }

    /** Builds the generator at start-up (edge and all roles), so a budget that cannot work stops the start, not a request. */
    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 350) StartupEvent event) {
        if (Role.parse(config.role()).runsEdge()) {
            generator();
        }
    }
}
