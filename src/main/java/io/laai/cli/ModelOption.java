package io.laai.cli;

import ai.djl.Device;
import io.laai.model.LanguageModel;
import io.laai.model.ModelFormatException;
import io.laai.model.ModelReference;

/** Loads --model for the offline commands, turning a bad file into a one-line error. */
final class ModelOption {
    private ModelOption() {
    }

    static LanguageModel load(String reference, Device device, String dtype) {
        return load(reference, device, dtype, null);
    }

    /** chatTemplate: a Jinja2 file used as the model's chat template (--chat-template), or null for the model's own. */
    static LanguageModel load(String reference, Device device, String dtype, java.nio.file.Path chatTemplate) {
        return load(reference, device, dtype, chatTemplate, io.laai.model.Engine.Choice.DJL);
    }

    /** On the Java engine alone, naming no DJL type (an edge-only build has none). */
    static LanguageModel loadJava(String reference, String dtype, int threads) {
        try {
            io.laai.model.WeightType.check(dtype);
            return LanguageModel.loadJava(ModelReference.resolve(reference), null, threads);
        } catch (ModelFormatException | IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }

    /** With the engines {@code engines} names (bench --engine). */
    static LanguageModel load(String reference, Device device, String dtype, java.nio.file.Path chatTemplate,
            io.laai.model.Engine.Choice engines) {
        String template = null;
        if (chatTemplate != null) {
            try {
                template = java.nio.file.Files.readString(chatTemplate);
            } catch (java.io.IOException e) {
                throw new CliException("--chat-template " + chatTemplate + " cannot be read: " + e.getMessage());
            }
        }
        try {
            return LanguageModel.load(ModelReference.resolve(reference), device,
                    io.laai.model.WeightType.resolve(dtype, device), template, engines);
        } catch (ModelFormatException | IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }
}
