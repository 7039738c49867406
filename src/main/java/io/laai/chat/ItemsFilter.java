package io.laai.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

/** Jinja 3.1's {@code items} filter: a mapping's (key, value) pairs, which Jinjava lacks. */
final class ItemsFilter implements Filter {

    @Override
    public String getName() {
        return "items";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        List<List<Object>> out = new ArrayList<>();
        if (var instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.add(List.of(e.getKey(), e.getValue() == null ? "" : e.getValue()));
            }
        }
        return out;
    }
}
