package io.laai.intervention;

import java.util.Locale;

/** Which positions receive Δ: those that predict the next token (the paper's rule), or all. */
public enum Positions {
    LAST, ALL;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Positions parse(String value) {
        for (Positions p : values()) {
            if (p.id().equals(value)) {
                return p;
            }
        }
        throw new IllegalArgumentException("positions '" + value + "' is not one of last, all");
    }
}
