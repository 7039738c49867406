package io.laai.model;

import io.laai.tokenizer.Tokenizer;

/**
 * Text ↔ token ids for a model, from its tokenizer.json (a GGUF vocabulary is converted to one),
 * by LAAI's own {@link Tokenizer}: pure Java, so the edge needs no native tokenizer library.
 * Thread-safe; closed with the model.
 */
public final class TextTokenizer implements AutoCloseable {

    private final Tokenizer tokenizer;

    private TextTokenizer(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public static TextTokenizer fromJson(String tokenizerJson, String source) {
        try {
            return new TextTokenizer(Tokenizer.fromJson(tokenizerJson));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": cannot build the tokenizer: " + e.getMessage(), e);
        }
    }

    /** Token ids of the text, with the model's special prefix (BOS for Llama) when asked. */
    public int[] encode(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens);
    }

    /** Text of the ids, special tokens left out. */
    public String decode(int[] ids) {
        return tokenizer.decode(ids, true);
    }

    /** One token's text with special tokens shown (a chat template's bos_token, eos_token). */
    public String tokenText(int id) {
        return tokenizer.decode(new int[] {id}, false);
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
        // Nothing native to free: the model's close stays the one place a tokenizer ends.
    }
}
