package io.laai.model;

import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves laai.model / --model to a local GGUF file or checkpoint directory. */
public final class ModelReference {
    private ModelReference() {
    }

    public static Path resolve(String reference) {
        if (reference == null || reference.isBlank()) {
            throw new ModelFormatException("no model given: set laai.model (env LAAI_MODEL) or --model");
        }
        if (reference.startsWith("hf:")) {
            return HubClient.fromEnvironment().resolve(reference.substring(3));
        }
        Path path = Path.of(reference);
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, "no such file or directory (a GGUF file, a Hugging Face checkpoint"
                    + " directory, hf:owner/name[@revision] or hf:owner/name/path/in/repo.gguf[@revision])");
        }
        return path;
    }
}
