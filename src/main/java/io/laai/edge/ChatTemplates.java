package io.laai.edge;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.laai.LaaiConfig;
import io.laai.ModelService;
import io.laai.chat.ChatTemplate;
import io.laai.model.LanguageModel;
import io.quarkus.runtime.configuration.ConfigurationException;

/** The edge's chat template: laai.chat-template when set, else the model's own; built once. */
@ApplicationScoped
public class ChatTemplates {

    @Inject
    ModelService models;

    @Inject
    LaaiConfig config;

    private volatile Optional<ChatTemplate> template;

    /** The template, or a 400 that says how to give one. */
    ChatTemplate require() {
        return get().orElseThrow(() -> Problem.Failure.badRequest("the model '" + models.model().id()
                + "' has no chat template; set laai.chat-template to a Jinja2 template file, or use /v1/completions")
                .param("messages"));
    }

    public Optional<ChatTemplate> get() {
        Optional<ChatTemplate> t = template;
        if (t == null) {
            synchronized (this) {
                if (template == null) {
                    template = load(models.model(), config.chatTemplate());
                }
                t = template;
            }
        }
        return t;
    }

    static Optional<ChatTemplate> load(LanguageModel lm, Optional<String> file) {
        Optional<String> source = lm.chatTemplate();
        if (file.isPresent()) {
            try {
                source = Optional.of(Files.readString(Path.of(file.get())));
            } catch (IOException e) {
                throw new ConfigurationException("laai.chat-template=" + file.get() + " cannot be read: " + e.getMessage());
            }
        }
        return source.map(s -> new ChatTemplate(s, lm.bosTokenText(), lm.eosTokenText(), LocalDate::now));
    }
}
