package io.laai.chat;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

/**
 * A model's chat template (the Jinja2 {@code chat_template} of its tokenizer_config.json, or the
 * GGUF {@code tokenizer.chat_template}) rendered as transformers' {@code apply_chat_template}
 * renders it: trim_blocks and lstrip_blocks, a {@code raise_exception} global, {@code tojson} as
 * Python's json.dumps, and {@code strftime_now}. A template that raises, or that Jinjava cannot
 * evaluate, is a {@link TemplateException} carrying the template's own message.
 */
public final class ChatTemplate {

    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    private final String source;
    private final String parsed;
    private final String bosToken;
    private final String eosToken;
    private final Supplier<LocalDate> today;
    private final Jinjava jinja;

    /** bosToken/eosToken: the tokenizer's special tokens, empty where the model has none. */
    public ChatTemplate(String source, String bosToken, String eosToken, Supplier<LocalDate> today) {
        this.source = source;
        this.parsed = jinja2Precedence(source);
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        this.today = today;
        JinjavaConfig config = JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withFailOnUnknownTokens(false)
                .withLegacyOverrides(LegacyOverrides.newBuilder().withUseTrimmingForNotesAndExpressions(true)
                        .withParseWhitespaceControlStrictly(true).withAllowAdjacentTextNodes(true)
                        .withUseNaturalOperatorPrecedence(true).withEvaluateMapKeys(true).withIterateOverMapKeys(true)
                        .withKeepNullableLoopValues(true).build())
                .build();
        this.jinja = new Jinjava(config);
        jinja.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class,
                "raiseException", String.class));
        jinja.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now", ChatTemplate.class,
                "strftimeNow", String.class));
        jinja.getGlobalContext().registerFilter(new PythonJsonFilter());
        jinja.getGlobalContext().registerFilter(new ItemsFilter());
    }

    /** The template's text, as the model ships it. */
    public String source() {
        return source;
    }

    public String eosToken() {
        return eosToken;
    }

    /** Tokens that end an assistant turn in the common template families. */
    private static final List<String> TURN_ENDS = List.of("<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>",
            "<|end|>", "<\uff5cend\u2581of\u2581sentence\uff5c>", "</s>", "<|endoftext|>");

    /**
     * What ends the assistant's turn: the EOS token and every common end-of-turn token the template
     * writes, since a chat model trained on the template emits it where its answer ends.
     */
    public List<String> endOfTurn() {
        java.util.LinkedHashSet<String> out = new java.util.LinkedHashSet<>();
        if (!eosToken.isEmpty()) {
            out.add(eosToken);
        }
        for (String t : TURN_ENDS) {
            if (source.contains(t)) {
                out.add(t);
            }
        }
        return List.copyOf(out);
    }

    /** Renders messages (maps of role, content and whatever else a client sent) for the model. */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        Map<String, Object> context = new HashMap<>();
        context.put("messages", messages);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        RAISED.remove();
        TODAY.set(today.get());
        try {
            RenderResult result = jinja.renderForResult(parsed, context);
            String raised = RAISED.get();
            if (raised != null) {
                throw new TemplateException(raised);
            }
            for (TemplateError e : result.getErrors()) {
                if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                    throw new TemplateException("the chat template failed: " + e.getMessage());
                }
            }
            return result.getOutput();
        } finally {
            RAISED.remove();
            TODAY.remove();
        }
    }

    private static final Pattern TAG = Pattern.compile("\\{[{%].*?[}%]\\}", Pattern.DOTALL);
    private static final Pattern NOT_TEST = Pattern.compile(
            "\\bnot\\s+([A-Za-z_][\\w.]*(?:\\[[^\\]]*\\])*)\\s+is\\s+(not\\s+)?([A-Za-z_]\\w*)");

    /**
     * In Jinja2 {@code not x is defined} means {@code not (x is defined)}; Jinjava binds {@code not}
     * tighter than a test. Inside tags, the test is parenthesised so both read it as Jinja2 does.
     */
    static String jinja2Precedence(String template) {
        return TAG.matcher(template).replaceAll(tag -> Matcher.quoteReplacement(
                NOT_TEST.matcher(tag.group()).replaceAll("not ($1 is $2$3)")));
    }

    private static final ThreadLocal<LocalDate> TODAY = new ThreadLocal<>();

    /** Jinja's raise_exception: the first message raised is the render's error. */
    public static String raiseException(String message) {
        if (RAISED.get() == null) {
            RAISED.set(message);
        }
        throw new IllegalStateException(message);
    }

    /** transformers' strftime_now, with the C library's directives the templates use. */
    public static String strftimeNow(String format) {
        LocalDate d = TODAY.get() == null ? LocalDate.now() : TODAY.get();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char f = format.charAt(++i);
            out.append(switch (f) {
                case 'd' -> String.format("%02d", d.getDayOfMonth());
                case 'b' -> d.format(DateTimeFormatter.ofPattern("MMM", Locale.ENGLISH));
                case 'B' -> d.format(DateTimeFormatter.ofPattern("MMMM", Locale.ENGLISH));
                case 'm' -> String.format("%02d", d.getMonthValue());
                case 'Y' -> String.valueOf(d.getYear());
                case 'y' -> String.format("%02d", d.getYear() % 100);
                case 'A' -> d.format(DateTimeFormatter.ofPattern("EEEE", Locale.ENGLISH));
                case 'a' -> d.format(DateTimeFormatter.ofPattern("EEE", Locale.ENGLISH));
                case 'j' -> String.format("%03d", d.getDayOfYear());
                case '%' -> "%";
                default -> "%" + f;
            });
        }
        return out.toString();
    }

    /** A template refused the conversation (raise_exception) or could not be evaluated. */
    public static final class TemplateException extends RuntimeException {
        public TemplateException(String message) {
            super(message);
        }
    }
}
