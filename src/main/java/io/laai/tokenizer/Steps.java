package io.laai.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The text steps of a tokenizer.json around its model: normalizers (text → text), pre-tokenizers
 * (pieces → smaller pieces) and decoders (tokens → strings), each the Hugging Face component of the
 * same name. A component this does not implement is refused by name when the tokenizer is built.
 */
final class Steps {

    private Steps() {
    }

    /** A pre-tokenizer: splits each piece; {@code first} is whether the piece starts the text. */
    interface PreTokenizer {
        List<String> split(String piece, boolean first);
    }

    interface Decoder {
        List<String> decode(List<String> tokens);
    }

    // ---- normalizers ----

    static UnaryOperator<String> normalizer(JsonNode n) {
        if (n == null || n.isNull()) {
            return UnaryOperator.identity();
        }
        String type = type(n, "normalizer");
        return switch (type) {
            case "Sequence" -> {
                List<UnaryOperator<String>> all = new ArrayList<>();
                n.path("normalizers").forEach(c -> all.add(normalizer(c)));
                yield s -> {
                    for (UnaryOperator<String> f : all) {
                        s = f.apply(s);
                    }
                    return s;
                };
            }
            case "Prepend" -> {
                String p = n.path("prepend").asText();
                yield s -> s.isEmpty() ? s : p + s;
            }
            case "Replace" -> {
                Pattern pattern = pattern(n.path("pattern"), "Replace normalizer");
                String content = Matcher.quoteReplacement(n.path("content").asText());
                yield s -> pattern.matcher(s).replaceAll(content);
            }
            case "NFC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            case "NFD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            case "NFKC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            case "NFKD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            case "Lowercase" -> s -> s.toLowerCase(Locale.ROOT);
            default -> throw unsupported("normalizer", type);
        };
    }

    // ---- pre-tokenizers ----

    static PreTokenizer preTokenizer(JsonNode n) {
        if (n == null || n.isNull()) {
            return (piece, first) -> List.of(piece);
        }
        String type = type(n, "pre_tokenizer");
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> all = new ArrayList<>();
                n.path("pretokenizers").forEach(c -> all.add(preTokenizer(c)));
                yield (piece, first) -> {
                    List<String> pieces = List.of(piece);
                    for (PreTokenizer p : all) {
                        List<String> next = new ArrayList<>();
                        for (int i = 0; i < pieces.size(); i++) {
                            next.addAll(p.split(pieces.get(i), first && i == 0));
                        }
                        pieces = next;
                    }
                    return pieces;
                };
            }
            case "ByteLevel" -> {
                boolean prefix = n.path("add_prefix_space").asBoolean(true);
                boolean regex = n.path("use_regex").asBoolean(true);
                yield (piece, first) -> {
                    String s = prefix && !piece.startsWith(" ") ? " " + piece : piece;
                    List<String> parts = regex ? isolate(ByteLevel.GPT2_SPLIT, s) : List.of(s);
                    return parts.stream().map(ByteLevel::encode).toList();
                };
            }
            case "Split" -> {
                Pattern pattern = pattern(n.path("pattern"), "Split pre-tokenizer");
                String behavior = n.path("behavior").asText();
                if (n.path("invert").asBoolean(false)) {
                    throw unsupported("pre_tokenizer", "Split with invert");
                }
                yield switch (behavior) {
                    case "Isolated" -> (piece, first) -> isolate(pattern, piece);
                    case "Removed" -> (piece, first) -> removed(pattern, piece);
                    default -> throw unsupported("pre_tokenizer", "Split with behavior " + behavior);
                };
            }
            case "Digits" -> {
                Pattern digits = Pattern.compile(n.path("individual_digits").asBoolean(false) ? "\\p{Nd}" : "\\p{Nd}+");
                yield (piece, first) -> isolate(digits, piece);
            }
            case "Metaspace" -> {
                String replacement = n.path("replacement").asText("\u2581");
                String scheme = prependScheme(n);
                boolean split = n.path("split").asBoolean(true);
                yield (piece, first) -> {
                    String s = piece.replace(" ", replacement);
                    boolean prepend = scheme.equals("always") || (scheme.equals("first") && first);
                    if (prepend && !s.startsWith(replacement)) {
                        s = replacement + s;
                    }
                    return split ? mergedWithNext(s, replacement) : List.of(s);
                };
            }
            default -> throw unsupported("pre_tokenizer", type);
        };
    }

    /** Matches and the text between them, each a piece, in order. */
    static List<String> isolate(Pattern p, String s) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(s);
        int at = 0;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue;
            }
            if (m.start() > at) {
                out.add(s.substring(at, m.start()));
            }
            out.add(m.group());
            at = m.end();
        }
        if (at < s.length()) {
            out.add(s.substring(at));
        }
        return out;
    }

    private static List<String> removed(Pattern p, String s) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(s);
        int at = 0;
        while (m.find()) {
            if (m.start() > at) {
                out.add(s.substring(at, m.start()));
            }
            at = Math.max(at, m.end());
        }
        if (at < s.length()) {
            out.add(s.substring(at));
        }
        return out;
    }

    /** Splits before each occurrence of the delimiter, which stays with the piece after it. */
    private static List<String> mergedWithNext(String s, String delimiter) {
        List<String> out = new ArrayList<>();
        int at = 0;
        for (int i = s.indexOf(delimiter, 1); i >= 0; i = s.indexOf(delimiter, i + delimiter.length())) {
            if (i > at) {
                out.add(s.substring(at, i));
                at = i;
            }
        }
        if (at < s.length()) {
            out.add(s.substring(at));
        }
        return out;
    }

    // ---- decoders ----

    static Decoder decoder(JsonNode n) {
        if (n == null || n.isNull()) {
            return tokens -> List.of(String.join(" ", tokens));
        }
        String type = type(n, "decoder");
        return switch (type) {
            case "Sequence" -> {
                List<Decoder> all = new ArrayList<>();
                n.path("decoders").forEach(c -> all.add(decoder(c)));
                yield tokens -> {
                    for (Decoder d : all) {
                        tokens = d.decode(tokens);
                    }
                    return tokens;
                };
            }
            case "ByteLevel" -> tokens -> {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                for (String t : tokens) {
                    bytes.writeBytes(ByteLevel.decode(t));
                }
                return List.of(bytes.toString(StandardCharsets.UTF_8));
            };
            case "Replace" -> {
                Pattern pattern = pattern(n.path("pattern"), "Replace decoder");
                String content = Matcher.quoteReplacement(n.path("content").asText());
                yield tokens -> tokens.stream().map(t -> pattern.matcher(t).replaceAll(content)).toList();
            }
            case "ByteFallback" -> Steps::byteFallback;
            case "Fuse" -> tokens -> List.of(String.join("", tokens));
            case "Strip" -> {
                String content = n.path("content").asText(" ");
                int start = n.path("start").asInt(0);
                int stop = n.path("stop").asInt(0);
                yield tokens -> tokens.stream().map(t -> strip(t, content, start, stop)).toList();
            }
            case "Metaspace" -> {
                String replacement = n.path("replacement").asText("\u2581");
                String scheme = prependScheme(n);
                yield tokens -> {
                    List<String> out = new ArrayList<>();
                    for (int i = 0; i < tokens.size(); i++) {
                        // As Hugging Face's: the first token's markers are all prefix, none a space.
                        boolean first = i == 0 && !scheme.equals("never");
                        out.add(tokens.get(i).replace(replacement, first ? "" : " "));
                    }
                    return out;
                };
            }
            default -> throw unsupported("decoder", type);
        };
    }

    /** Runs of {@code <0xXX>} pieces become their UTF-8 text, or one U+FFFD per byte where that is not valid UTF-8. */
    private static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>();
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        for (String t : tokens) {
            if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                try {
                    run.write(Integer.parseInt(t.substring(3, 5), 16));
                    continue;
                } catch (NumberFormatException notAByte) {
                    // an ordinary piece that looks like one
                }
            }
            flush(run, out);
            out.add(t);
        }
        flush(run, out);
        return out;
    }

    private static void flush(ByteArrayOutputStream run, List<String> out) {
        if (run.size() == 0) {
            return;
        }
        byte[] bytes = run.toByteArray();
        run.reset();
        try {
            out.add(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            for (int i = 0; i < bytes.length; i++) {
                out.add("\uFFFD");
            }
        }
    }

    private static String strip(String t, String content, int start, int stop) {
        int from = 0;
        while (from < start && t.startsWith(content, from * content.length())) {
            from++;
        }
        int begin = from * content.length();
        int end = t.length();
        for (int k = 0; k < stop && end - content.length() >= begin && t.startsWith(content, end - content.length()); k++) {
            end -= content.length();
        }
        return t.substring(begin, end);
    }

    // ---- shared ----

    /** A Metaspace's prepend_scheme (always, first, never); files before it have add_prefix_space. */
    private static String prependScheme(JsonNode n) {
        return n.has("prepend_scheme") ? n.path("prepend_scheme").asText()
                : n.path("add_prefix_space").asBoolean(true) ? "always" : "never";
    }

    private static Pattern pattern(JsonNode p, String where) {
        if (p.has("String")) {
            return Pattern.compile(Pattern.quote(p.path("String").asText()));
        }
        if (p.has("Regex")) {
            return Pattern.compile(p.path("Regex").asText(), Pattern.UNICODE_CHARACTER_CLASS);
        }
        throw new IllegalArgumentException("the " + where + " has no String or Regex pattern");
    }

    private static String type(JsonNode n, String kind) {
        if (!n.has("type")) {
            throw new IllegalArgumentException("a " + kind + " has no type");
        }
        return n.path("type").asText();
    }

    static IllegalArgumentException unsupported(String kind, String type) {
        return new IllegalArgumentException("the " + kind + " '" + type + "' is not supported by LAAI's tokenizer");
    }
}
