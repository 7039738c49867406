package io.laai.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A Hugging Face tokenizer.json executed in Java: added tokens split out of the text first, then
 * normalizer, pre-tokenizer and BPE model per piece, and the post-processor's special tokens;
 * decoding runs the decoder over the ids' pieces. It implements the components Llama-style
 * (SentencePiece BPE with byte fallback) and GPT-2-style (byte-level BPE) tokenizers use, with
 * their variants in Llama 3, Mistral, Qwen and SmolLM files, and refuses any other by name.
 * Immutable and thread-safe.
 */
public final class Tokenizer {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** How far ids may run past the vocabulary's size (gaps where added tokens sit). */
    private static final int MAX_ID_GAP = 1 << 20;

    private record Added(String content, int id, boolean special, boolean normalized, boolean lstrip, boolean rstrip,
            boolean singleWord) {
    }

    private final Bpe model;
    private final UnaryOperator<String> normalizer;
    private final Steps.PreTokenizer preTokenizer;
    private final Steps.Decoder decoder;
    private final int[] prefix; // special ids the post-processor puts before a sequence
    private final int[] suffix; // and after it
    private final Map<Integer, Added> addedById = new HashMap<>();
    private final Map<Character, List<Added>> rawByFirst = new HashMap<>(); // longest first
    private final Map<Character, List<Added>> normalizedByFirst = new HashMap<>();

    private Tokenizer(JsonNode root) {
        this.model = model(root.path("model"));
        for (JsonNode a : root.path("added_tokens")) {
            Added t = new Added(a.path("content").asText(), a.path("id").asInt(), a.path("special").asBoolean(false),
                    a.path("normalized").asBoolean(!a.path("special").asBoolean(false)), a.path("lstrip").asBoolean(false),
                    a.path("rstrip").asBoolean(false), a.path("single_word").asBoolean(false));
            if (t.content.isEmpty()) {
                continue;
            }
            addedById.put(t.id, t);
            (t.normalized ? normalizedByFirst : rawByFirst).computeIfAbsent(t.content.charAt(0), k -> new ArrayList<>())
                    .add(t);
        }
        for (Map<Character, List<Added>> m : List.of(rawByFirst, normalizedByFirst)) {
            m.values().forEach(l -> l.sort(Comparator.comparingInt((Added t) -> -t.content.length())));
        }
        this.normalizer = Steps.normalizer(root.get("normalizer"));
        this.preTokenizer = Steps.preTokenizer(root.get("pre_tokenizer"));
        this.decoder = Steps.decoder(root.get("decoder"));
        List<Integer> before = new ArrayList<>();
        List<Integer> after = new ArrayList<>();
        postProcessor(root.get("post_processor"), before, after);
        this.prefix = before.stream().mapToInt(Integer::intValue).toArray();
        this.suffix = after.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The tokenizer a tokenizer.json describes.
     *
     * @throws IllegalArgumentException naming what is malformed or not supported
     */
    public static Tokenizer fromJson(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("the tokenizer is not JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("the tokenizer is not a JSON object");
        }
        return new Tokenizer(root);
    }

    /** Token ids of the text, with the post-processor's special tokens (BOS for Llama) when asked. */
    public int[] encode(String text, boolean addSpecialTokens) {
        text = wellFormed(text);
        Bpe.IntList ids = new Bpe.IntList();
        if (addSpecialTokens) {
            for (int id : prefix) {
                ids.add(id);
            }
        }
        boolean first = true;
        for (Object raw : split(text, rawByFirst)) {
            if (raw instanceof Added a) {
                ids.add(a.id);
                first = false;
                continue;
            }
            for (Object part : split(normalizer.apply((String) raw), normalizedByFirst)) {
                if (part instanceof Added a) {
                    ids.add(a.id);
                } else {
                    for (String word : preTokenizer.split((String) part, first)) {
                        model.encode(word, ids);
                    }
                }
                first = false;
            }
        }
        if (addSpecialTokens) {
            for (int id : suffix) {
                ids.add(id);
            }
        }
        return ids.toArray();
    }

    /** The text with each unpaired surrogate (not text, but a JSON string may carry one) as U+FFFD. */
    static String wellFormed(String text) {
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean paired = Character.isHighSurrogate(c) ? i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))
                    : !Character.isLowSurrogate(c) || (i > 0 && Character.isHighSurrogate(text.charAt(i - 1)));
            if (!paired && b == null) {
                b = new StringBuilder(text.substring(0, i));
            }
            if (b != null) {
                b.append(paired ? c : '\uFFFD');
            }
        }
        return b == null ? text : b.toString();
    }

    /** The ids' text; special tokens left out when asked, ids the vocabulary does not have always. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            Added a = addedById.get(id);
            if (a != null) {
                if (!(skipSpecialTokens && a.special)) {
                    tokens.add(a.content);
                }
                continue;
            }
            String piece = model.piece(id);
            if (piece != null) {
                tokens.add(piece);
            }
        }
        return String.join("", decoder.decode(tokens));
    }

    /** How many ids the vocabulary spans (model pieces and added tokens). */
    int vocabularySize() {
        return Math.max(model.size(), addedById.keySet().stream().mapToInt(i -> i + 1).max().orElse(0));
    }

    /** The text cut into plain strings and the added tokens found in it, leftmost and longest first. */
    private static List<Object> split(String text, Map<Character, List<Added>> byFirst) {
        if (byFirst.isEmpty()) {
            return text.isEmpty() ? List.of() : List.of(text);
        }
        List<Object> out = new ArrayList<>();
        int cut = 0;
        for (int i = 0; i < text.length(); i++) {
            List<Added> candidates = byFirst.get(text.charAt(i));
            if (candidates == null) {
                continue;
            }
            for (Added a : candidates) {
                int end = i + a.content.length();
                if (!text.startsWith(a.content, i) || (a.singleWord && !(boundary(text, i - 1) && boundary(text, end)))) {
                    continue;
                }
                int start = i;
                if (a.lstrip) {
                    while (start > cut && Character.isWhitespace(text.charAt(start - 1))) {
                        start--;
                    }
                }
                if (a.rstrip) {
                    while (end < text.length() && Character.isWhitespace(text.charAt(end))) {
                        end++;
                    }
                }
                if (start > cut) {
                    out.add(text.substring(cut, start));
                }
                out.add(a);
                cut = end;
                i = end - 1;
                break;
            }
        }
        if (cut < text.length()) {
            out.add(text.substring(cut));
        }
        return out;
    }

    private static boolean boundary(String text, int at) {
        return at < 0 || at >= text.length() || !(Character.isLetterOrDigit(text.charAt(at)) || text.charAt(at) == '_');
    }

    private static Bpe model(JsonNode m) {
        String type = m.path("type").asText("BPE");
        if (!type.equals("BPE") || !m.has("vocab")) {
            throw Steps.unsupported("model", type);
        }
        for (String affix : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (!m.path(affix).isNull() && !m.path(affix).asText("").isEmpty()) {
                throw Steps.unsupported("model", "BPE with a " + affix);
            }
        }
        if (m.path("dropout").isNumber() && m.path("dropout").asDouble() > 0) {
            throw Steps.unsupported("model", "BPE with dropout");
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        Set<Integer> ids = new HashSet<>();
        m.path("vocab").fields().forEachRemaining(e -> {
            int id = e.getValue().asInt(-1);
            if (id < 0) {
                throw new IllegalArgumentException("the vocabulary's piece '" + e.getKey() + "' has no id");
            }
            if (id > m.path("vocab").size() + MAX_ID_GAP) {
                // Pieces are indexed by id: a stray huge id would size that index, not the vocabulary.
                throw new IllegalArgumentException("the vocabulary's piece '" + e.getKey() + "' has id " + id + ", far beyond its "
                        + m.path("vocab").size() + " pieces");
            }
            vocab.put(e.getKey(), id);
            ids.add(id);
        });
        List<String[]> pairs = new ArrayList<>();
        for (JsonNode merge : m.path("merges")) {
            String[] p;
            if (merge.isArray() && merge.size() == 2) {
                p = new String[] {merge.get(0).asText(), merge.get(1).asText()};
            } else {
                p = splitMerge(merge.asText(), vocab, pairs.size());
            }
            pairs.add(p);
        }
        String unkPiece = m.path("unk_token").isNull() ? null : m.path("unk_token").asText(null);
        int unk = unkPiece == null ? -1 : vocab.getOrDefault(unkPiece, -1);
        return new Bpe(vocab, Bpe.merges(vocab, pairs), unk, m.path("fuse_unk").asBoolean(false),
                m.path("byte_fallback").asBoolean(false), m.path("ignore_merges").asBoolean(false));
    }

    /**
     * A merge written as one string, "left right". Pieces may hold spaces themselves (Llama 2's
     * vocabulary has runs of them), so the separator is the first space whose two sides are pieces
     * that join into a piece.
     */
    private static String[] splitMerge(String s, Map<String, Integer> vocab, int rank) {
        for (int space = s.indexOf(' ', 1); space >= 0; space = s.indexOf(' ', space + 1)) {
            String left = s.substring(0, space);
            String right = s.substring(space + 1);
            if (vocab.containsKey(left) && vocab.containsKey(right) && vocab.containsKey(left + right)) {
                return new String[] {left, right};
            }
        }
        int space = s.indexOf(' ', 1);
        if (space < 0) {
            throw new IllegalArgumentException("merge " + rank + " ('" + s + "') is not two pieces");
        }
        return new String[] {s.substring(0, space), s.substring(space + 1)}; // refused by name in Bpe.merges
    }

    private static void postProcessor(JsonNode n, List<Integer> before, List<Integer> after) {
        if (n == null || n.isNull()) {
            return;
        }
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> n.path("processors").forEach(p -> postProcessor(p, before, after));
            case "ByteLevel" -> {
                // offsets only: the ids are unchanged
            }
            case "TemplateProcessing" -> {
                boolean seen = false;
                for (JsonNode item : n.path("single")) {
                    if (item.has("Sequence")) {
                        seen = true;
                    } else if (item.has("SpecialToken")) {
                        String id = item.path("SpecialToken").path("id").asText();
                        JsonNode special = n.path("special_tokens").path(id);
                        if (!special.has("ids")) {
                            throw new IllegalArgumentException("the template's special token '" + id
                                    + "' is not in its special_tokens");
                        }
                        for (JsonNode i : special.path("ids")) {
                            (seen ? after : before).add(i.asInt());
                        }
                    }
                }
            }
            case "BertProcessing", "RobertaProcessing" -> {
                before.add(n.path("cls").path(1).asInt());
                after.add(n.path("sep").path(1).asInt());
            }
            default -> throw Steps.unsupported("post_processor", type);
        }
    }
}
