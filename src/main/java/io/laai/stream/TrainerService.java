package io.laai.stream;

import java.util.Optional;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import io.laai.LaaiConfig;
import io.laai.model.LanguageModel;
import io.laai.model.MemoryEstimate;
import io.laai.ModelService;
import io.laai.Role;
import io.laai.train.TrainConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;

/** Runs the trainer pipeline where the role includes the trainer; its health says whether it still consumes. */
@ApplicationScoped
public class TrainerService {

    private static final Logger LOG = Logger.getLogger(TrainerService.class);

    @Inject
    LaaiConfig config;

    @Inject
    ModelService models;

    @Inject
    MeterRegistry meters;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private volatile TrainerPipeline pipeline;

    /** The batch limits every entry point applies (HTTP ingest refuses what the trainer would dead-letter). */
    public static DemonstrationBatch.Limits limits(LaaiConfig.Trainer t) {
        return new DemonstrationBatch.Limits(t.maxDemonstrations(), t.maxFieldChars(), t.maxBatchBytes(), t.maxSteps(),
                t.maxPatience());
    }

    /** Share of the memory left beside the heap and the weights that training takes by default (the edge takes as much). */
    static final double TRAINER_SHARE = 0.4;

    /** laai.trainer.memory-budget, or its default for this model and process. */
    public static long memoryBudget(LaaiConfig.Trainer t, LanguageModel lm) {
        return t.memoryBudget().map(m -> m.asLongValue())
                .orElseGet(() -> new MemoryEstimate(lm.config()).defaultBudget(TRAINER_SHARE));
    }

    /** laai.train.* over the built-in defaults; a wrong key or value stops start-up with one line. */
    public static TrainConfig trainDefaults(LaaiConfig config) {
        try {
            return TrainConfig.DEFAULTS.with(config.train());
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("laai.train.*: " + e.getMessage());
        }
    }

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 300) StartupEvent event) {
        LaaiConfig.Trainer t = config.trainer();
        TrainConfig defaults = trainDefaults(config);
        DemonstrationBatch.Limits limits;
        TrainerPipeline.Settings settings;
        try {
            limits = limits(t);
            defaults.within(t.maxSteps(), t.maxPatience());
            settings = new TrainerPipeline.Settings(bootstrapServers, t.groupId(), instanceId(t.staticMembership()),
                    t.window(), limits, defaults, t.gate(), t.progressEvery(), t.maxInFlight(), t.tasksPerStep(),
                    t.maxAttempts(), java.time.Duration.ofSeconds(t.maxTrainingSeconds()),
                    memoryBudget(t, models.model()), t.sessionTimeout(), t.staticMembership());
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("laai.trainer.*: " + e.getMessage());
        }
        if (Role.parse(config.role()).runsTrainer()) {
            pipeline = new TrainerPipeline(models.model(), settings, meters).start();
            LOG.infof("Trainer %s consuming laai.demonstrations in group %s (%s membership, session timeout %d s), "
                    + "memory budget %s a step", settings.instanceId(), t.groupId(),
                    t.staticMembership() ? "static" : "dynamic", t.sessionTimeout().toSeconds(),
                    MemoryEstimate.mib(settings.memoryBudget()));
        }
    }

    void onStop(@Observes @Priority(Interceptor.Priority.PLATFORM_AFTER) ShutdownEvent event) {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    /** Static membership needs an id that survives a restart (the pod name); otherwise the process makes it unique. */
    private static String instanceId(boolean stable) {
        String host = Optional.ofNullable(System.getenv("HOSTNAME")).orElse("local");
        return "laai-trainer-" + host + (stable ? "" : "-" + ProcessHandle.current().pid());
    }

    HealthCheckResponse health(String name) {
        HealthCheckResponseBuilder r = HealthCheckResponse.named(name);
        TrainerPipeline p = pipeline;
        if (p == null) {
            return r.up().withData("trainer", "not run by this role").build();
        }
        if (p.failure().isPresent()) {
            return r.down().withData("reason", String.valueOf(p.failure().get().getMessage())).build();
        }
        return r.status(p.running()).withData("assignments", p.assignments()).build();
    }

    /** Ready while the pipeline consumes. */
    @Readiness
    @ApplicationScoped
    static class Ready implements HealthCheck {
        @Inject
        TrainerService service;

        @Override
        public HealthCheckResponse call() {
            return service.health("laai-trainer");
        }
    }

    /** A pipeline that stopped on a Kafka failure needs a restart, which replays what it had not accounted for. */
    @Liveness
    @ApplicationScoped
    static class Live implements HealthCheck {
        @Inject
        TrainerService service;

        @Override
        public HealthCheckResponse call() {
            return service.health("laai-trainer");
        }
    }
}
