package io.laai;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import io.laai.model.Engine;
import io.laai.model.EngineThreads;
import io.laai.model.Devices;
import io.laai.model.LanguageModel;
import io.laai.model.ModelFormatException;
import io.laai.model.ModelReference;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;

/**
 * Loads laai.model once at start-up and shares it (immutable) with every part of the service.
 * A model that cannot be loaded stops start-up with one line naming the setting.
 */
@ApplicationScoped
public class ModelService {

    private static final Logger LOG = Logger.getLogger(ModelService.class);

    @Inject
    LaaiConfig config;

    @Inject
    Lifecycle lifecycle;

    private volatile LanguageModel model;

    /** DJL beside or instead of the Java engine: libtorch finds the device (ConfigCheck has refused a build without it). */
    private LanguageModel loadWithDjl(Engine.Choice engines) {
        ai.djl.Device device = Devices.resolve(config.device());
        return LanguageModel.load(ModelReference.resolve(config.model()), device,
                io.laai.model.WeightType.resolve(config.dtype(), device), chatTemplate(config.chatTemplate()), engines);
    }

    // After Kafka (PLATFORM_BEFORE) and before the messaging channels (LIBRARY_BEFORE).
    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 100) StartupEvent event) {
        long start = System.nanoTime();
        String threads;
        try {
            threads = EngineThreads.configure(config.threads().intraOp().orElse(null), config.threads().interOp().orElse(null));
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("laai.threads.*: " + e.getMessage());
        }
        Engine.Choice engines;
        boolean djl;
        try {
            Role role = Role.parse(config.role());
            // The edge serves on the chosen engine; DJL is loaded beside it only where the trainer runs,
            // and libtorch is not even asked for a GPU where nothing needs it.
            Engine.Kind serving = role.runsEdge() ? Engine.Kind.parse(config.edge().engine(), config.device()) : Engine.Kind.DJL;
            engines = new Engine.Choice(serving, role.runsTrainer(), config.edge().threads().orElse(EngineThreads.cpus()));
            djl = engines.training() || serving == Engine.Kind.DJL;
            io.laai.model.WeightType.check(config.dtype());
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(e.getMessage());
        }
        try {
            // The Java engine alone names no DJL type: an edge-only build has none of DJL's jars.
            model = djl ? loadWithDjl(engines) : LanguageModel.loadJava(ModelReference.resolve(config.model()),
                    chatTemplate(config.chatTemplate()), engines.threads());
        } catch (ModelFormatException | IllegalArgumentException e) {
            String advice = config.model().contains("hf:ggml-org/models/tinyllamas/stories260K.gguf")
                    ? " (the dev and test model is the 1.2 MB hf:ggml-org/models/tinyllamas/stories260K.gguf: start once with"
                            + " network access to cache it, or download"
                            + " https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf and set LAAI_MODEL"
                            + " to the file)"
                    : e.getMessage().contains("LAAI_MODEL") ? ""
                            : " (set laai.model, env LAAI_MODEL, to a GGUF file, a checkpoint directory or hf:owner/name)";
            throw new ConfigurationException("laai.model=" + config.model() + " cannot be loaded: " + e.getMessage() + advice);
        }
        LanguageModel loaded = model;
        lifecycle.opened("model", () -> {
            model = null;
            loaded.close();
        });
        LOG.infof("Model %s (%s, %d layers) loaded in %d ms, fingerprint %s; serving on %s; libtorch threads intra/inter-op %s of %d CPUs",
                model.id(), model.config().family().id(), model.config().numHiddenLayers(),
                (System.nanoTime() - start) / 1_000_000, model.fingerprint(), weights(model), threads, EngineThreads.cpus());
    }

    /** laai.chat-template's text, or null for the model's own template. */
    static String chatTemplate(java.util.Optional<String> file) {
        if (file.isEmpty()) {
            return null;
        }
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of(file.get()));
        } catch (java.io.IOException | RuntimeException e) {
            throw new ConfigurationException("laai.chat-template=" + file.get() + " cannot be read: " + e.getMessage());
        }
    }

    /** "4.0 MiB f32 on cpu (djl)": what the serving engine's weights take and where, by type. */
    public static String weights(LanguageModel m) {
        return m.engine().describe();
    }

    /** The model, or null while it loads; callers through a CDI proxy cannot read the field. */
    LanguageModel loaded() {
        return model;
    }

    public LanguageModel model() {
        LanguageModel m = model;
        if (m == null) {
            throw new IllegalStateException("the model is not loaded yet");
        }
        return m;
    }

    /** Ready once the model is loaded. */
    @Readiness
    @ApplicationScoped
    static class Check implements HealthCheck {
        @Inject
        ModelService service;

        @Override
        public HealthCheckResponse call() {
            LanguageModel m = service.loaded();
            return m == null ? HealthCheckResponse.named("laai-model").down().build()
                    : HealthCheckResponse.named("laai-model").up().withData("model", m.id())
                            .withData("fingerprint", m.fingerprint()).build();
        }
    }
}
