package io.laai.chat;

import java.util.Collection;
import java.util.Map;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.AdvancedFilter;

/**
 * Jinja's {@code tojson} as transformers defines it: Python's {@code json.dumps(x,
 * ensure_ascii=False, indent=indent)}, so separators, escapes and indentation match byte for byte.
 */
final class PythonJsonFilter implements AdvancedFilter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.get("indent");
        if (indent == null && args.length > 0) {
            indent = args[0];
        }
        StringBuilder out = new StringBuilder();
        write(out, var, indent == null ? -1 : ((Number) indent).intValue(), 0);
        return out.toString();
    }

    static void write(StringBuilder out, Object v, int indent, int depth) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            out.append(d == Math.rint(d) && Math.abs(d) < 1e16 ? String.valueOf((long) d) + ".0" : String.valueOf(d));
        } else if (v instanceof Number n) {
            out.append(n);
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                out.append("{}");
                return;
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                separator(out, first, indent, depth + 1);
                first = false;
                string(out, String.valueOf(e.getKey()));
                out.append(": ");
                write(out, e.getValue(), indent, depth + 1);
            }
            close(out, indent, depth);
            out.append('}');
        } else if (v instanceof Collection<?> c) {
            if (c.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append('[');
            boolean first = true;
            for (Object e : c) {
                separator(out, first, indent, depth + 1);
                first = false;
                write(out, e, indent, depth + 1);
            }
            close(out, indent, depth);
            out.append(']');
        } else {
            string(out, String.valueOf(v));
        }
    }

    private static void separator(StringBuilder out, boolean first, int indent, int depth) {
        if (indent < 0) {
            if (!first) {
                out.append(", ");
            }
            return;
        }
        if (!first) {
            out.append(',');
        }
        out.append('\n').append(" ".repeat(indent * depth));
    }

    private static void close(StringBuilder out, int indent, int depth) {
        if (indent >= 0) {
            out.append('\n').append(" ".repeat(indent * depth));
        }
    }

    /** A JSON string with ensure_ascii=False: only quotes, backslashes and control characters are escaped. */
    static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
