package io.laai.model;

import java.nio.file.Path;

/** A model file that cannot be used: names the file and what is wrong with it. */
public class ModelFormatException extends RuntimeException {

    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
