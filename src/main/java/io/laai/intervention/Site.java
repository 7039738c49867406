package io.laai.intervention;

import java.util.Locale;

/** Where Δ is added: the concatenated attention-head outputs before o_proj, or a layer's output. */
public enum Site {
    ATTN_HEADS, RESIDUAL;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Site parse(String value) {
        for (Site s : values()) {
            if (s.id().equals(value)) {
                return s;
            }
        }
        throw new IllegalArgumentException("site '" + value + "' is not one of attn_heads, residual");
    }
}
