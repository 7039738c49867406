package io.laai.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Resolves laai.model / --model to a local GGUF file or checkpoint directory. A comma-separated
 * list is tried in order and the first that resolves is used (the dev and test profiles: the copy
 * in ../shared where this project's machines have it, else the hub file).
 */
public final class ModelReference {
    private ModelReference() {
    }

    public static Path resolve(String reference) {
        if (reference == null || reference.isBlank()) {
            throw new ModelFormatException("no model given: set laai.model (env LAAI_MODEL) or --model");
        }
        String[] candidates = reference.split(",");
        if (candidates.length == 1) {
            return resolveOne(reference.trim());
        }
        List<String> why = new ArrayList<>();
        for (String c : candidates) {
            try {
                return resolveOne(c.trim());
            } catch (ModelFormatException e) {
                why.add(e.getMessage());
            }
        }
        throw new ModelFormatException("none of " + candidates.length + " models could be used: " + String.join("; ", why));
    }

    private static Path resolveOne(String reference) {
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
