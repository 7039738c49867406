package io.laai;

import java.util.ArrayList;
import java.util.List;

import io.laai.contract.IngestRules;
import io.laai.kafka.KafkaClients;
import io.quarkus.runtime.configuration.ConfigurationException;

/** Every laai.* value checked before anything starts, so a wrong one stops start-up with every problem named at once. */
final class ConfigCheck {

    private ConfigCheck() {
    }

    static List<String> problems(LaaiConfig c, org.eclipse.microprofile.config.Config all) {
        List<String> p = new ArrayList<>();
        attempt(p, () -> Role.parse(c.role()));
        if (c.model().isBlank()) {
            p.add("laai.model is empty; set it (env LAAI_MODEL) to a GGUF file, a checkpoint directory or hf:owner/name");
        }
        if (!List.of("auto", "cpu", "gpu").contains(c.device().trim().toLowerCase(java.util.Locale.ROOT))) {
            p.add("laai.device='" + c.device() + "' is not one of auto, cpu, gpu");
        }
        attempt(p, () -> io.laai.model.WeightType.check(c.dtype()));
        c.chatTemplate().ifPresent(f -> {
            if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(f))) {
                p.add("laai.chat-template=" + f + " is not a readable file");
            }
        });
        LaaiConfig.Edge e = c.edge();
        attempt(p, () -> io.laai.model.Engine.Kind.parse(e.engine(), c.device()));
        attempt(p, () -> requireLibtorchWhereNeeded(c));
        e.threads().ifPresent(t -> positive(p, "laai.edge.threads", t));
        positive(p, "laai.edge.max-prompt-chars", e.maxPromptChars());
        positive(p, "laai.edge.max-tokens", e.maxTokens());
        positive(p, "laai.edge.max-batch", e.maxBatch());
        if (e.kvTokens() < 2) {
            p.add("laai.edge.kv-tokens=" + e.kvTokens() + " must be at least 2");
        }
        positive(p, "laai.edge.prefill-chunk", e.prefillChunk());
        positive(p, "laai.edge.max-uri-chars", e.maxUriChars());
        positive(p, "laai.edge.max-body-bytes", e.maxBodyBytes());
        if (e.maxQueued() < 0) {
            p.add("laai.edge.max-queued=" + e.maxQueued() + " must be 0 or more");
        }
        if (!(e.maxScale() > 0) || Double.isInfinite(e.maxScale())) {
            p.add("laai.edge.max-scale=" + e.maxScale() + " must be a positive number");
        }
        positive(p, "laai.edge.request-timeout", e.requestTimeout().toMillis());
        if (e.drainTimeout().isNegative()) {
            p.add("laai.edge.drain-timeout must not be negative");
        }
        LaaiConfig.Trainer t = c.trainer();
        positive(p, "laai.trainer.window", t.window());
        positive(p, "laai.trainer.progress-every", t.progressEvery());
        positive(p, "laai.trainer.tasks-per-step", t.tasksPerStep());
        positive(p, "laai.trainer.max-in-flight", t.maxInFlight());
        positive(p, "laai.trainer.max-training-seconds", t.maxTrainingSeconds());
        positive(p, "laai.trainer.max-attempts", t.maxAttempts());
        positive(p, "laai.trainer.session-timeout", t.sessionTimeout().toMillis());
        if (t.transactionTimeout().toMillis() < 1000) {
            p.add("laai.trainer.transaction-timeout=" + t.transactionTimeout() + " must be at least 1s");
        }
        t.memoryBudget().ifPresent(m -> positive(p, "laai.trainer.memory-budget", m.asLongValue()));
        e.memoryBudget().ifPresent(m -> positive(p, "laai.edge.memory-budget", m.asLongValue()));
        attempt(p, () -> IngestRules.trainDefaults(c).within(t.maxSteps(), t.maxPatience()));
        attempt(p, () -> IngestRules.limits(t));
        LaaiConfig.Kafka.Topics topics = c.kafka().topics();
        positive(p, "laai.kafka.topics.partitions", topics.partitions());
        positive(p, "laai.kafka.topics.interventions-partitions", topics.interventionsPartitions());
        LaaiConfig.Kafka.Embedded embedded = c.kafka().embedded();
        port(p, "laai.kafka.embedded.port", embedded.port());
        port(p, "laai.kafka.embedded.controller-port", embedded.controllerPort());
        attempt(p, () -> KafkaClients.fromConfig(all));
        c.threads().intraOp().ifPresent(n -> positive(p, "laai.threads.intra-op", n));
        c.threads().interOp().ifPresent(n -> positive(p, "laai.threads.inter-op", n));
        return p;
    }

    private static void positive(List<String> p, String key, long value) {
        if (value < 1) {
            p.add(key + " must be positive");
        }
    }

    private static void port(List<String> p, String key, int value) {
        if (value < 1 || value > 65535) {
            p.add(key + "=" + value + " is not a port (1-65535)");
        }
    }

    /** A build without libtorch (-Dedge) runs only the edge on the Java engine; wrong values are named elsewhere. */
    private static void requireLibtorchWhereNeeded(LaaiConfig c) {
        Role role;
        try {
            role = Role.parse(c.role());
        } catch (ConfigurationException e) {
            return;
        }
        if (role.runsTrainer()) {
            io.laai.model.Engine.requireLibtorch("laai.role=" + c.role().trim());
            return;
        }
        io.laai.model.Engine.Kind serving;
        try {
            serving = io.laai.model.Engine.Kind.parse(c.edge().engine(), c.device());
        } catch (IllegalArgumentException e) {
            return;
        }
        if (serving == io.laai.model.Engine.Kind.DJL) {
            io.laai.model.Engine.requireLibtorch("laai.edge.engine=djl");
        }
    }

    private static void attempt(List<String> p, Runnable check) {
        try {
            check.run();
        } catch (ConfigurationException | IllegalArgumentException e) {
            p.add(e.getMessage());
        }
    }
}
