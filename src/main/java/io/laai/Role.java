package io.laai;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

import io.quarkus.runtime.configuration.ConfigurationException;

/** Which parts of LAAI one process runs; one image serves every deployment. */
public enum Role {
    ALL, TRAINER, EDGE;

    public static Role parse(String value) {
        for (Role role : values()) {
            if (role.name().equalsIgnoreCase(value.trim())) {
                return role;
            }
        }
        String allowed = Arrays.stream(values()).map(r -> r.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
        throw new ConfigurationException("laai.role='" + value + "' is not one of " + allowed
                + "; set laai.role (env LAAI_ROLE) to one of them");
    }

    public boolean runsTrainer() {
        return this != EDGE;
    }

    public boolean runsEdge() {
        return this != TRAINER;
    }
}
