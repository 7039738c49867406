package io.laai.edge;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import org.jboss.logging.Logger;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.laai.LaaiConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
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

    @Inject
    MeterRegistry meters;

    private ContinuousGenerator generator;
    private Counter promptTokens;
    private Counter generatedTokens;
    private Timer firstToken;
    private Timer interToken;

    public CompletableFuture<Generator.Result> submit(Generator.Request request) {
        return submit(request, null);
    }

    /**
     * onText, when given, receives the completion as it grows (never half a UTF-8 character).
     * Time to first token and between tokens are measured at the text deltas, which is what a
     * streaming client sees.
     */
    public CompletableFuture<Generator.Result> submit(Generator.Request request, Consumer<String> onText) {
        ContinuousGenerator g = generator();
        long start = System.nanoTime();
        long[] last = {0};
        Consumer<String> timed = delta -> {
            long now = System.nanoTime();
            (last[0] == 0 ? firstToken : interToken).record(now - (last[0] == 0 ? start : last[0]), TimeUnit.NANOSECONDS);
            last[0] = now;
            if (onText != null) {
                onText.accept(delta);
            }
        };
        CompletableFuture<Generator.Result> f = g.submit(request, timed);
        f.whenComplete((r, e) -> {
            if (r != null) {
                promptTokens.increment(r.promptTokens());
                generatedTokens.increment(r.completionTokens());
            }
        });
        return f;
    }

    /** Requests in rows and waiting now, and tokens of finished requests so far. */
    public record Load(int running, int waiting, long promptTokens, long generatedTokens) {
    }

    /** The edge's load; empty where this role generates nothing. */
    public synchronized java.util.Optional<Load> load() {
        if (generator == null) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new Load(generator.running(), generator.waiting(), (long) promptTokens.count(),
                (long) generatedTokens.count()));
    }

    /** Counts an admitted request under each task it applies ("base" when none). */
    void countRequest(List<GenerateResponse.Applied> applied) {
        if (applied.isEmpty()) {
            requests("base").increment();
        }
        applied.forEach(a -> requests(a.task()).increment());
    }

    private Counter requests(String task) {
        return Counter.builder("laai.edge.requests").description("generation requests admitted, by the task they apply")
                .tag("task", task).register(meters);
    }

    private synchronized ContinuousGenerator generator() {
        if (generator == null) {
            ContinuousGenerator g = create(models.model(), config.edge());
            generator = g;
            Gauge.builder("laai.edge.requests.running", g, ContinuousGenerator::running)
                    .description("requests generating in a row of the batch now").register(meters);
            Gauge.builder("laai.edge.requests.waiting", g, ContinuousGenerator::waiting)
                    .description("requests admitted and waiting for a row").register(meters);
            promptTokens = Counter.builder("laai.edge.prompt.tokens").description("prompt tokens of finished requests")
                    .register(meters);
            generatedTokens = Counter.builder("laai.edge.generated.tokens")
                    .description("tokens generated by finished requests").register(meters);
            firstToken = Timer.builder("laai.edge.time.to.first.token")
                    .description("from admission to a request's first text").publishPercentiles(0.5, 0.95, 0.99)
                    .register(meters);
            interToken = Timer.builder("laai.edge.inter.token.latency")
                    .description("between consecutive texts of one request").publishPercentiles(0.5, 0.95, 0.99)
                    .register(meters);
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
