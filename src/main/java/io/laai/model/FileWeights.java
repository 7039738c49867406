package io.laai.model;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A model's weights by name, read from their file each time one is asked for and held by no one
 * here: an engine that keeps a weight in its own layout (the Java engine's panels) holds one file
 * tensor at a time while it loads, not the whole file beside its copy. Unmodifiable; iteration
 * order is the order of {@link #put}.
 */
final class FileWeights extends AbstractMap<String, Weight> {

    private final Map<String, Supplier<Weight>> readers = new LinkedHashMap<>();

    /** While the loader builds it: how the weight called name is read. */
    void put(String name, Supplier<Weight> reader) {
        readers.put(name, reader);
    }

    @Override
    public Weight get(Object name) {
        Supplier<Weight> r = readers.get(name);
        return r == null ? null : r.get();
    }

    @Override
    public boolean containsKey(Object name) {
        return readers.containsKey(name);
    }

    @Override
    public int size() {
        return readers.size();
    }

    @Override
    public Set<String> keySet() {
        return java.util.Collections.unmodifiableSet(readers.keySet());
    }

    /** Entries read their weight when asked for its value, not before. */
    @Override
    public Set<Entry<String, Weight>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, Weight>> iterator() {
                Iterator<Entry<String, Supplier<Weight>>> it = readers.entrySet().iterator();
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Entry<String, Weight> next() {
                        Entry<String, Supplier<Weight>> e = it.next();
                        return new Entry<>() {
                            @Override
                            public String getKey() {
                                return e.getKey();
                            }

                            @Override
                            public Weight getValue() {
                                return e.getValue().get();
                            }

                            @Override
                            public Weight setValue(Weight value) {
                                throw new UnsupportedOperationException("a model's weights are read-only");
                            }
                        };
                    }
                };
            }

            @Override
            public int size() {
                return readers.size();
            }
        };
    }
}
