package io.laai.stream;

import java.util.Optional;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import io.laai.LaaiConfig;
import io.laai.model.LanguageModel;
import io.laai.contract.IngestRules;
import io.laai.model.MemoryEstimate;
import io.laai.ModelService;
import io.laai.Role;
import io.micrometer.core.instrument.MeterRegistry;
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

    @Inject
    io.laai.kafka.KafkaClients clients;

    @Inject
    io.laai.Lifecycle lifecycle;

    private volatile TrainerPipeline pipeline;

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 300) StartupEvent event) {
        if (!Role.parse(config.role()).runsTrainer()) {
            return;
        }
        // The settings were checked before anything started (ConfigCheck); the record checks its own invariants.
        LaaiConfig.Trainer t = config.trainer();
        TrainerPipeline.Settings settings;
        try {
            settings = new TrainerPipeline.Settings(clients, t.groupId(), instanceId(t.staticMembership()),
                    t.window(), IngestRules.limits(t), IngestRules.trainDefaults(config), t.gate(), t.progressEvery(),
                    t.maxInFlight(), t.tasksPerStep(), t.maxAttempts(), java.time.Duration.ofSeconds(t.maxTrainingSeconds()),
                    IngestRules.memoryBudget(t, models.model()), t.sessionTimeout(), t.staticMembership(),
                    t.transactionTimeout());
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("laai.trainer.*: " + e.getMessage());
        }
        pipeline = new TrainerPipeline(models.model(), settings, meters).start();
        lifecycle.opened("trainer", pipeline);
        LOG.infof("Trainer %s consuming laai.demonstrations in group %s (%s membership, session timeout %d s), "
                + "memory budget %s a step", settings.instanceId(), t.groupId(),
                t.staticMembership() ? "static" : "dynamic", t.sessionTimeout().toSeconds(),
                MemoryEstimate.mib(settings.memoryBudget()));
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
