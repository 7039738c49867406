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
        try {
            return LanguageModel.load(ModelReference.resolve(reference), device,
                    io.laai.model.WeightType.resolve(dtype, device));
        } catch (ModelFormatException | IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }
}
