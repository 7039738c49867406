package io.laai.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.laai.SharedData;
import io.laai.model.GgufModelLoader;

/**
 * The Java tokenizer against the Hugging Face tokenizers library itself (through DJL's binding,
 * here only as the reference): the same ids for every text, with and without special tokens, and
 * the same text for every id sequence, on the real Llama 2 and GPT-2 tokenizer.json files,
 * stories260K's GGUF vocabulary as LAAI converts it, and the variants later files use (Metaspace,
 * Digits, a Split regex with ignore_merges) built from those.
 */
class TokenizerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void llama2TokenizerJson() throws Exception {
        sameAsReference(JSON.writeValueAsString(llama2()), "llama2");
    }

    /**
     * The Llama 2 tokenizer.json without its 1,300-odd merges of pieces that hold spaces themselves
     * ("     "), which the reference library refuses to read ("Merges text file invalid") and this
     * tokenizer reads by splitting at the space whose sides are pieces.
     */
    private static ObjectNode llama2() throws java.io.IOException {
        ObjectNode llama = (ObjectNode) JSON.readTree(Files.readString(SharedData.model("llama2-tokenizer/tokenizer.json")));
        com.fasterxml.jackson.databind.node.ArrayNode kept = JSON.createArrayNode();
        llama.path("model").path("merges").forEach(m -> {
            if (m.asText().indexOf(' ') == m.asText().lastIndexOf(' ')) {
                kept.add(m);
            }
        });
        ((ObjectNode) llama.path("model")).set("merges", kept);
        return llama;
    }

    @Test
    void llama2MergesOfPiecesWithSpacesAreRead() throws Exception {
        Tokenizer t = Tokenizer.fromJson(Files.readString(SharedData.model("llama2-tokenizer/tokenizer.json")));
        assertArrayEquals(Tokenizer.fromJson(JSON.writeValueAsString(llama2())).encode("Hello world, once upon a time", true),
                t.encode("Hello world, once upon a time", true));
    }

    @Test
    void gpt2TokenizerJson() throws Exception {
        String json = Files.readString(SharedData.model("gpt2-fake-hf/tokenizer.json"));
        sameAsReference(json, "gpt2");
        // llama.cpp's own GPT-2 test vectors are held by Gpt2Test, through the model's tokenizer (this one).
    }

    @Test
    void stories260KGgufVocabulary() throws Exception {
        String json = GgufModelLoader.load(SharedData.model("stories260K/stories260K.gguf")).tokenizerJson();
        sameAsReference(json, "stories260K");
    }

    @Test
    void metaspaceAndByteLevelVariants() throws Exception {
        ObjectNode llama = llama2();
        for (String scheme : List.of("always", "first")) {
            ObjectNode mistral = llama.deepCopy();
            mistral.putNull("normalizer");
            mistral.set("pre_tokenizer", JSON.valueToTree(Map.of("type", "Metaspace", "replacement", "\u2581",
                    "prepend_scheme", scheme, "split", false)));
            mistral.set("decoder", JSON.valueToTree(Map.of("type", "Metaspace", "replacement", "\u2581",
                    "prepend_scheme", scheme, "split", false)));
            sameAsReference(JSON.writeValueAsString(mistral), "metaspace " + scheme);
        }
        ObjectNode gpt2 = (ObjectNode) JSON.readTree(Files.readString(SharedData.model("gpt2-fake-hf/tokenizer.json")));
        ObjectNode smol = gpt2.deepCopy();
        smol.set("pre_tokenizer", JSON.valueToTree(Map.of("type", "Sequence", "pretokenizers", List.of(
                Map.of("type", "Digits", "individual_digits", true),
                Map.of("type", "ByteLevel", "add_prefix_space", false, "trim_offsets", true, "use_regex", true)))));
        sameAsReference(JSON.writeValueAsString(smol), "digits + byte level");
        ObjectNode llama3 = gpt2.deepCopy();
        llama3.set("normalizer", JSON.valueToTree(Map.of("type", "NFC")));
        llama3.set("pre_tokenizer", JSON.valueToTree(Map.of("type", "Sequence", "pretokenizers", List.of(
                Map.of("type", "Split", "pattern", Map.of("Regex",
                        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
                        "behavior", "Isolated", "invert", false),
                Map.of("type", "ByteLevel", "add_prefix_space", false, "trim_offsets", true, "use_regex", false)))));
        ((ObjectNode) llama3.path("model")).put("ignore_merges", true);
        sameAsReference(JSON.writeValueAsString(llama3), "split regex + ignore_merges");
    }

    @Test
    void refusesWhatItDoesNotImplementByName() throws Exception {
        ObjectNode gpt2 = (ObjectNode) JSON.readTree(Files.readString(SharedData.model("gpt2-fake-hf/tokenizer.json")));
        ObjectNode wordPiece = gpt2.deepCopy();
        ((ObjectNode) wordPiece.path("model")).put("type", "WordPiece");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tokenizer.fromJson(JSON.writeValueAsString(wordPiece)));
        assertTrue(e.getMessage().contains("model 'WordPiece'"), e.getMessage());
        ObjectNode bert = gpt2.deepCopy();
        bert.set("normalizer", JSON.valueToTree(Map.of("type", "BertNormalizer")));
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromJson(JSON.writeValueAsString(bert)));
        assertTrue(e.getMessage().contains("normalizer 'BertNormalizer'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromJson("[1, 2]"));
        assertTrue(e.getMessage().contains("not a JSON object"), e.getMessage());
        ObjectNode hugeId = gpt2.deepCopy();
        ((ObjectNode) hugeId.path("model").path("vocab")).put("zzqq@", 2_000_000_000);
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromJson(JSON.writeValueAsString(hugeId)));
        assertTrue(e.getMessage().contains("has id 2000000000, far beyond"), e.getMessage());
        ObjectNode badMerge = gpt2.deepCopy();
        ((com.fasterxml.jackson.databind.node.ArrayNode) badMerge.path("model").path("merges")).insert(0, "zzqq@ xxyy#");
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromJson(JSON.writeValueAsString(badMerge)));
        assertTrue(e.getMessage().contains("merge 0"), e.getMessage());
    }

    @Test
    void anUnpairedSurrogateIsTheReplacementCharacter() throws Exception {
        Tokenizer t = Tokenizer.fromJson(Files.readString(SharedData.model("gpt2-fake-hf/tokenizer.json")));
        assertArrayEquals(t.encode("a\uFFFD\uD83D\uDE00\uFFFD", false), t.encode("a\uD83D\uD83D\uDE00\uDE00", false));
        assertEquals("a\uFFFD", t.decode(t.encode("a\uDE00", false), false));
    }

    @Test
    void aLongSentencePiecePromptIsOneWord() throws Exception {
        // Without a pre-tokenizer a whole prompt is one BPE word (merged through a heap, not pair by pair).
        String json = GgufModelLoader.load(SharedData.model("stories260K/stories260K.gguf")).tokenizerJson();
        Tokenizer t = Tokenizer.fromJson(json);
        String text = "Once upon a time, there was a little girl named Lily. ".repeat(2000); // 108,000 characters
        int[] ids = t.encode(text, true);
        assertEquals(text, t.decode(ids, true));
        try (HuggingFaceTokenizer ref = reference(json)) {
            assertArrayEquals(java.util.Arrays.stream(ref.encode(text, true, false).getIds()).mapToInt(l -> (int) l)
                    .toArray(), ids);
        }
    }

    /** Texts that exercise each step: spaces, newlines, digits, contractions, accents, CJK, emoji, invalid pieces, special tokens. */
    private static List<String> texts(Random random) {
        List<String> texts = new ArrayList<>(List.of("", " ", "  ", "\n", "\n\n\t", "Hello world", " Hello world",
                "Hello  world  ", "Once upon a time, there was a little girl named Lily.", "I'm sure you'll've seen it",
                "It's 2026-12-03: 12345 + 678 = 13023", "café naïve Ünïcödé", "日本語のテキスト", "emoji 🙂🚀 and 👩‍👩‍👧",
                "tabs\tand\r\nwindows", "<s>Hello</s>", "a <s> b </s> c <unk>", "<|endoftext|>Hi<|endoftext|>",
                "   leading", "trailing   ", "x" + "y".repeat(300), "don't DON'T 'S", "$%^&*()_+{}|:\"<>?~`",
                "\u00a0non\u2009breaking", "mixed123abc456", "Ω≈ç√∫˜µ≤≥÷"));
        String pool = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 ,.!?'\"\n\t-éüñß日本語🙂€";
        int[] cps = pool.codePoints().toArray();
        for (int i = 0; i < 200; i++) {
            StringBuilder b = new StringBuilder();
            int n = random.nextInt(40);
            for (int k = 0; k < n; k++) {
                b.appendCodePoint(cps[random.nextInt(cps.length)]);
            }
            texts.add(b.toString());
        }
        return texts;
    }

    /** The Hugging Face library on the same file, nothing truncated or padded. */
    private static HuggingFaceTokenizer reference(String json) throws java.io.IOException {
        return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)),
                Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false",
                        "maxLength", String.valueOf(Integer.MAX_VALUE / 2)));
    }

    private static void sameAsReference(String json, String name) throws java.io.IOException {
        Tokenizer ours = Tokenizer.fromJson(json);
        try (HuggingFaceTokenizer ref = reference(json)) {
            Random random = new Random(42);
            for (String text : texts(random)) {
                for (boolean special : new boolean[] {true, false}) {
                    long[] want = ref.encode(text, special, false).getIds();
                    int[] got = ours.encode(text, special);
                    assertArrayEquals(java.util.Arrays.stream(want).mapToInt(l -> (int) l).toArray(), got,
                            name + ": ids of '" + text + "' (special tokens " + special + ")");
                    for (boolean skip : new boolean[] {true, false}) {
                        assertEquals(ref.decode(want, skip), ours.decode(got, skip),
                                name + ": text of '" + text + "' (skip special " + skip + ")");
                    }
                }
            }
            int size = ours.vocabularySize();
            for (int i = 0; i < 300; i++) {
                int[] ids = random.ints(1 + random.nextInt(12), 0, size).toArray();
                long[] l = java.util.Arrays.stream(ids).asLongStream().toArray();
                for (boolean skip : new boolean[] {true, false}) {
                    assertEquals(ref.decode(l, skip), ours.decode(ids, skip),
                            name + ": text of ids " + java.util.Arrays.toString(ids) + " (skip special " + skip + ")");
                }
            }
        }
    }
}
