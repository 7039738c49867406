package io.laai.edge;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A request body read strictly: it must be an object, every field must be known, and every value
 * must have its documented JSON type. A wrong type is a 400 naming the field, never a silent
 * default, so a client's typo or mistaken type cannot turn into behaviour it did not ask for.
 */
final class JsonBody {

    private final JsonNode node;

    private JsonBody(JsonNode node) {
        this.node = node;
    }

    /** Refuses anything but an object whose fields are all in {@code known}. */
    static JsonBody of(JsonNode node, String what, Set<String> known) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            throw Problem.Failure.badRequest("the body must be a JSON object: " + what);
        }
        if (!node.isObject()) {
            throw Problem.Failure.badRequest("the body must be a JSON object (" + what + "), not " + kind(node));
        }
        Set<String> unknown = new TreeSet<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!known.contains(f)) {
                unknown.add(f);
            }
        }
        if (!unknown.isEmpty()) {
            throw Problem.Failure.badRequest("unknown field" + (unknown.size() > 1 ? "s " : " ") + quoted(unknown)
                    + "; the known fields are " + quoted(new TreeSet<>(known)));
        }
        return new JsonBody(node);
    }

    private JsonNode value(String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }

    JsonNode raw(String field) {
        return value(field);
    }

    boolean has(String field) {
        return value(field) != null;
    }

    String string(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw wrongType(field, "a string", v);
        }
        return v.asText();
    }

    /** An integer that fits an int; fractions, strings and booleans are refused. */
    Integer integer(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() && !(v.isFloatingPointNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
            throw wrongType(field, "an integer", v);
        }
        if (!v.canConvertToInt() || v.decimalValue().compareTo(java.math.BigDecimal.valueOf(v.asInt())) != 0) {
            throw Problem.Failure.badRequest(field + " is " + v.asText() + ", outside the range of an integer");
        }
        return v.asInt();
    }

    Long integer64(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw wrongType(field, "an integer of at most 64 bits", v);
        }
        return v.asLong();
    }

    /** A finite number. */
    Double number(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw wrongType(field, "a number", v);
        }
        double d = v.asDouble();
        if (!Double.isFinite(d)) {
            throw Problem.Failure.badRequest(field + " must be a finite number, was " + v.asText());
        }
        return d;
    }

    Boolean bool(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw wrongType(field, "true or false", v);
        }
        return v.asBoolean();
    }

    /** A string or an array of strings (OpenAI's stop); null elements are refused. */
    List<String> strings(String field, int most) {
        JsonNode v = value(field);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            if (v.size() > most) {
                throw Problem.Failure.badRequest(field + " has " + v.size() + " entries; at most " + most + " are allowed");
            }
            for (int i = 0; i < v.size(); i++) {
                if (!v.get(i).isTextual()) {
                    throw wrongType(field + "[" + i + "]", "a string", v.get(i));
                }
                out.add(v.get(i).asText());
            }
        } else {
            throw wrongType(field, "a string or an array of strings", v);
        }
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).isEmpty()) {
                throw Problem.Failure.badRequest(field + (v.isArray() ? "[" + i + "]" : "") + " is an empty string");
            }
        }
        return out;
    }

    JsonNode array(String field) {
        JsonNode v = value(field);
        if (v != null && !v.isArray()) {
            throw wrongType(field, "an array", v);
        }
        return v;
    }

    static Problem.Failure wrongType(String field, String expected, JsonNode v) {
        String shown = v.toString();
        if (shown.length() > 40) {
            shown = shown.substring(0, 40) + "…";
        }
        return Problem.Failure.badRequest(field + " must be " + expected + ", was " + kind(v) + " " + shown).param(field);
    }

    static String kind(JsonNode v) {
        return v.isTextual() ? "a string" : v.isBoolean() ? "a boolean" : v.isNumber() ? "a number"
                : v.isArray() ? "an array" : v.isObject() ? "an object" : "null";
    }

    private static String quoted(Set<String> names) {
        return String.join(", ", names.stream().map(n -> "'" + (n.length() > 40 ? n.substring(0, 40) + "…" : n) + "'")
                .toList());
    }
}
