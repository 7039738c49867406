package io.laai.edge;

import java.nio.charset.StandardCharsets;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.laai.model.TextTokenizer;
import io.laai.model.TokenLogprob;

/**
 * Log-probabilities in OpenAI's two shapes: completions' parallel arrays (tokens, token_logprobs,
 * top_logprobs, text_offset) and chat's list of {token, logprob, bytes, top_logprobs}. A token's
 * text is what it adds after the token before it, so SentencePiece's leading space is kept.
 */
final class OpenAiLogprobs {

    private static final ObjectMapper JSON = new ObjectMapper();

    private OpenAiLogprobs() {
    }

    /** The text {@code id} adds after {@code previous} (-1: none). */
    static String piece(TextTokenizer tokenizer, int previous, int id) {
        return previous < 0 ? tokenizer.decode(new int[] {id}) : tokenizer.continuation(new int[] {previous}, new int[] {id});
    }

    /**
     * Completions' logprobs object for {@code ids} (entries may be null: the first prompt token has
     * no log-probability), whose text starts at character {@code offset} of the choice.
     */
    static final class Completion {
        private final ObjectNode node = JSON.createObjectNode();
        private final ArrayNode tokens = node.putArray("tokens");
        private final ArrayNode logprobs = node.putArray("token_logprobs");
        private final ArrayNode top = node.putArray("top_logprobs");
        private final ArrayNode offsets = node.putArray("text_offset");
        private int offset;

        Completion add(TextTokenizer tokenizer, int previous, int[] ids, List<TokenLogprob> lps) {
            for (int i = 0; i < ids.length; i++) {
                int before = i == 0 ? previous : ids[i - 1];
                String text = piece(tokenizer, before, ids[i]);
                tokens.add(text);
                offsets.add(offset);
                offset += text.length();
                TokenLogprob lp = lps.get(i);
                if (lp == null) {
                    logprobs.addNull();
                    top.addNull();
                    continue;
                }
                logprobs.add(lp.logprob());
                ObjectNode alternatives = top.addObject();
                for (int k = 0; k < lp.topTokens().length; k++) {
                    String alt = piece(tokenizer, before, lp.topTokens()[k]);
                    if (!alternatives.has(alt)) {
                        alternatives.put(alt, lp.topLogprobs()[k]);
                    }
                }
            }
            return this;
        }

        ObjectNode node() {
            return node;
        }
    }

    /** Chat's logprobs object: {"content": [{token, logprob, bytes, top_logprobs}], "refusal": null}. */
    static ObjectNode chat(TextTokenizer tokenizer, int previous, int[] ids, List<TokenLogprob> lps) {
        ObjectNode node = JSON.createObjectNode();
        ArrayNode content = node.putArray("content");
        for (int i = 0; i < ids.length; i++) {
            int before = i == 0 ? previous : ids[i - 1];
            TokenLogprob lp = lps.get(i);
            ObjectNode entry = entry(content.addObject(), piece(tokenizer, before, ids[i]), lp.logprob());
            ArrayNode top = entry.putArray("top_logprobs");
            for (int k = 0; k < lp.topTokens().length; k++) {
                entry(top.addObject(), piece(tokenizer, before, lp.topTokens()[k]), lp.topLogprobs()[k]);
            }
        }
        node.putNull("refusal");
        return node;
    }

    private static ObjectNode entry(ObjectNode n, String token, float logprob) {
        n.put("token", token);
        n.put("logprob", logprob);
        ArrayNode bytes = n.putArray("bytes");
        for (byte b : token.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xff);
        }
        return n;
    }
}
