package io.laai.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Turns the vocabulary stored in GGUF metadata into a Hugging Face tokenizer.json, so one
 * tokenizer implementation ({@link io.laai.tokenizer.Tokenizer}) serves every model.
 * {@code llama} vocabularies are SentencePiece BPE: merges are recovered from the piece scores
 * (a pair merges when the joined piece exists; higher score merges first), with SentencePiece's
 * dummy-prefix space and byte fallback. {@code gpt2} vocabularies are byte-level BPE with merges.
 */
final class GgufTokenizer {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TYPE_UNKNOWN = 2;
    private static final int TYPE_CONTROL = 3;
    private static final int TYPE_USER_DEFINED = 4;

    private GgufTokenizer() {
    }

    static String toTokenizerJson(GgufFile g) {
        String model = g.string("tokenizer.ggml.model");
        List<Object> tokens = g.array("tokenizer.ggml.tokens");
        if (model == null || tokens == null) {
            throw new ModelFormatException(g.file(), "the GGUF file holds no tokenizer (tokenizer.ggml.model/tokens)");
        }
        List<String> pieces = tokens.stream().map(String::valueOf).toList();
        List<Object> types = g.array("tokenizer.ggml.token_type");
        Map<String, Object> root = switch (model) {
            case "llama" -> sentencePiece(g, pieces, types);
            case "gpt2" -> byteLevel(g, pieces, types);
            default -> throw new ModelFormatException(g.file(), "tokenizer.ggml.model '" + model
                    + "' is not supported (llama, gpt2)");
        };
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> sentencePiece(GgufFile g, List<String> pieces, List<Object> types) {
        List<Object> scoreList = g.array("tokenizer.ggml.scores");
        if (scoreList == null || scoreList.size() != pieces.size()) {
            throw new ModelFormatException(g.file(), "tokenizer.ggml.scores is missing or has the wrong length");
        }
        int unk = g.number("tokenizer.ggml.unknown_token_id", 0).intValue();
        int bos = g.number("tokenizer.ggml.bos_token_id", 1).intValue();
        Map<String, Integer> vocab = vocab(pieces);
        record Merge(String left, String right, float score, int id) {
        }
        List<Merge> merges = new ArrayList<>();
        for (int id = 0; id < pieces.size(); id++) {
            if (type(types, id) != 1) {
                continue;
            }
            String piece = pieces.get(id);
            int[] cps = piece.codePoints().toArray();
            for (int k = 1; k < cps.length; k++) {
                String left = new String(cps, 0, k);
                String right = new String(cps, k, cps.length - k);
                if (vocab.containsKey(left) && vocab.containsKey(right)) {
                    merges.add(new Merge(left, right, ((Number) scoreList.get(id)).floatValue(), id));
                }
            }
        }
        merges.sort(Comparator.comparingDouble((Merge m) -> -m.score).thenComparingInt(m -> m.id));
        Map<String, Object> bpe = new LinkedHashMap<>();
        bpe.put("type", "BPE");
        bpe.put("dropout", null);
        bpe.put("unk_token", pieces.get(unk));
        bpe.put("continuing_subword_prefix", null);
        bpe.put("end_of_word_suffix", null);
        bpe.put("fuse_unk", true);
        bpe.put("byte_fallback", true);
        bpe.put("vocab", vocab);
        bpe.put("merges", merges.stream().map(m -> m.left + " " + m.right).toList());
        Map<String, Object> root = base(pieces, types);
        root.put("normalizer", Map.of("type", "Sequence", "normalizers", List.of(
                Map.of("type", "Prepend", "prepend", "\u2581"),
                Map.of("type", "Replace", "pattern", Map.of("String", " "), "content", "\u2581"))));
        root.put("pre_tokenizer", null);
        root.put("post_processor", bosTemplate(pieces.get(bos), bos));
        root.put("decoder", Map.of("type", "Sequence", "decoders", List.of(
                Map.of("type", "Replace", "pattern", Map.of("String", "\u2581"), "content", " "),
                Map.of("type", "ByteFallback"), Map.of("type", "Fuse"),
                Map.of("type", "Strip", "content", " ", "start", 1, "stop", 0))));
        root.put("model", bpe);
        return root;
    }

    private static Map<String, Object> byteLevel(GgufFile g, List<String> pieces, List<Object> types) {
        List<Object> merges = g.array("tokenizer.ggml.merges");
        if (merges == null) {
            throw new ModelFormatException(g.file(), "tokenizer.ggml.merges is missing for a gpt2 tokenizer");
        }
        Map<String, Object> bpe = new LinkedHashMap<>();
        bpe.put("type", "BPE");
        bpe.put("dropout", null);
        bpe.put("unk_token", null);
        bpe.put("continuing_subword_prefix", "");
        bpe.put("end_of_word_suffix", "");
        bpe.put("fuse_unk", false);
        bpe.put("byte_fallback", false);
        bpe.put("vocab", vocab(pieces));
        bpe.put("merges", merges.stream().map(String::valueOf).toList());
        Map<String, Object> byteLevel = Map.of("type", "ByteLevel", "add_prefix_space", false, "trim_offsets", true,
                "use_regex", true);
        Map<String, Object> root = base(pieces, types);
        root.put("normalizer", null);
        root.put("pre_tokenizer", byteLevel);
        root.put("post_processor", byteLevel);
        root.put("decoder", byteLevel);
        root.put("model", bpe);
        return root;
    }

    private static Map<String, Object> base(List<String> pieces, List<Object> types) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        List<Map<String, Object>> added = new ArrayList<>();
        for (int id = 0; id < pieces.size(); id++) {
            int t = type(types, id);
            if (t == TYPE_UNKNOWN || t == TYPE_CONTROL || t == TYPE_USER_DEFINED) {
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("id", id);
                a.put("content", pieces.get(id));
                a.put("single_word", false);
                a.put("lstrip", false);
                a.put("rstrip", false);
                a.put("normalized", false);
                a.put("special", t != TYPE_USER_DEFINED);
                added.add(a);
            }
        }
        root.put("added_tokens", added);
        return root;
    }

    private static Map<String, Object> bosTemplate(String bos, int bosId) {
        Map<String, Object> special = Map.of("SpecialToken", Map.of("id", bos, "type_id", 0));
        return Map.of("type", "TemplateProcessing",
                "single", List.of(special, Map.of("Sequence", Map.of("id", "A", "type_id", 0))),
                "pair", List.of(special, Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                        Map.of("SpecialToken", Map.of("id", bos, "type_id", 1)),
                        Map.of("Sequence", Map.of("id", "B", "type_id", 1))),
                "special_tokens", Map.of(bos, Map.of("id", bos, "ids", List.of(bosId), "tokens", List.of(bos))));
    }

    private static Map<String, Integer> vocab(List<String> pieces) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int id = 0; id < pieces.size(); id++) {
            vocab.putIfAbsent(pieces.get(id), id);
        }
        return vocab;
    }

    private static int type(List<Object> types, int id) {
        return types == null || id >= types.size() ? 1 : ((Number) types.get(id)).intValue();
    }
}
