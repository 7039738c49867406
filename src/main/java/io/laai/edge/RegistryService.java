package io.laai.edge;

import java.util.Optional;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import io.laai.LaaiConfig;
import io.laai.ModelService;
import io.laai.Role;
import io.laai.intervention.Intervention;
import io.laai.kafka.Topics;
import io.quarkus.runtime.StartupEvent;

/** Runs the intervention registry where the edge runs; ready once it has caught up with the topic. */
@ApplicationScoped
public class RegistryService {

    @Inject
    LaaiConfig config;

    @Inject
    ModelService models;

    @Inject
    io.laai.kafka.KafkaClients clients;

    @Inject
    io.laai.Lifecycle lifecycle;

    private volatile InterventionRegistry registry;
    private volatile TrainingStatus training;

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 200) StartupEvent event) {
        if (Role.parse(config.role()).runsEdge()) {
            registry = new InterventionRegistry(clients, Topics.INTERVENTIONS, models.model()).start();
            lifecycle.opened("intervention registry", registry);
            training = new TrainingStatus(clients).start();
            lifecycle.opened("training status", training);
        }
    }

    public Optional<Intervention> get(String task) {
        return registry == null ? Optional.empty() : registry.get(task);
    }

    /** The newest training event of a task, where the edge has seen one. */
    public Optional<com.fasterxml.jackson.databind.JsonNode> training(String task) {
        return training == null ? Optional.empty() : training.latest(task);
    }

    /** The edge's follower of laai.training-events; empty where no edge runs. */
    public Optional<TrainingStatus> trainingStatus() {
        return Optional.ofNullable(training);
    }

    /** The registry itself; empty where no edge runs. */
    public Optional<InterventionRegistry> registry() {
        return Optional.ofNullable(registry);
    }

    public java.util.Map<String, Intervention> all() {
        return registry == null ? java.util.Map.of() : registry.all();
    }

    /** Ready once the registry has read what was on the topic at start (always, where no edge runs). */
    @Readiness
    @ApplicationScoped
    static class Check implements HealthCheck {
        @Inject
        RegistryService service;

        @Override
        public HealthCheckResponse call() {
            return service.health();
        }
    }

    HealthCheckResponse health() {
        HealthCheckResponseBuilder r = HealthCheckResponse.named("laai-registry");
        if (registry == null) {
            return r.up().withData("role", config.role()).withData("registry", "not run by this role").build();
        }
        if (registry.failure().isPresent()) {
            return r.down().withData("reason", String.valueOf(registry.failure().get().getMessage())).build();
        }
        return r.status(registry.caughtUp()).withData("tasks", registry.all().size())
                .withData("rejected", registry.rejectedCount()).build();
    }
}
