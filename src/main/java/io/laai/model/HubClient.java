package io.laai.model;

import java.nio.file.Path;

/** Placeholder until the hub download lands: a clear refusal instead of a silent failure. */
final class HubClient {
    static HubClient fromEnvironment() {
        return new HubClient();
    }

    Path snapshot(String repo) {
        throw new ModelFormatException("hf:" + repo + ": downloading from the Hugging Face hub is not available yet;"
                + " point laai.model (env LAAI_MODEL) at a local GGUF file or checkpoint directory");
    }
}
