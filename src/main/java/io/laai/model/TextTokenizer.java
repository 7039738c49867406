package io.laai.model;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

/**
 * Text ↔ token ids through DJL's binding of Hugging Face tokenizers, built from a tokenizer.json.
 * Thread-safe for encode/decode; closed with the model.
 */
public final class TextTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;

    private TextTokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public static TextTokenizer fromJson(String tokenizerJson, String source) {
        Map<String, String> options = Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false",
                "maxLength", String.valueOf(Integer.MAX_VALUE / 2));
        try {
            return new TextTokenizer(HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(tokenizerJson.getBytes(StandardCharsets.UTF_8)), options));
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(source + ": cannot build the tokenizer: " + e.getMessage(), e);
        }
    }

    /** Token ids of the text, with the model's special prefix (BOS for Llama) when asked. */
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    /** Text of the ids, special tokens left out. */
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, true);
    }

    /** One token's text with special tokens shown (a chat template's bos_token, eos_token). */
    public String tokenText(int id) {
        return tokenizer.decode(new long[] {id}, false);
    }

    /**
     * The text that {@code continuation} adds after {@code prefix}. Decoding the continuation alone
     * would lose SentencePiece's leading space and split multi-byte characters across the seam.
     */
    public String continuation(int[] prefix, int[] continuation) {
        int[] all = new int[prefix.length + continuation.length];
        System.arraycopy(prefix, 0, all, 0, prefix.length);
        System.arraycopy(continuation, 0, all, prefix.length, continuation.length);
        String full = decode(all);
        String head = decode(prefix);
        return full.startsWith(head) ? full.substring(head.length()) : decode(continuation);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
