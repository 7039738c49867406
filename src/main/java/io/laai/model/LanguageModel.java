package io.laai.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

import ai.djl.Device;

import io.laai.chat.ChatTemplate;

/**
 * An immutable, shared model: config, tokenizer, the transformer on its device, and the
 * fingerprint that artifacts record. Per-request state (KV cache, hooks) lives elsewhere.
 */
public final class LanguageModel implements AutoCloseable {

    private final String id;
    private final ModelConfig config;
    private final TextTokenizer tokenizer;
    private final Transformer transformer;
    private final String fingerprint;
    private final GenerationDefaults generationDefaults;
    private final LoadedModel.Chat chat;
    private final ChatTemplate chatTemplate;
    private final String bosText; // read on every prompt (encodePrompt), so decoded once

    private LanguageModel(LoadedModel loaded, Device device, ai.djl.ndarray.types.DataType matrices, String template) {
        this.id = loaded.id();
        this.config = loaded.config();
        this.generationDefaults = loaded.generationDefaults();
        this.chat = template == null ? loaded.chat()
                : new LoadedModel.Chat(template, loaded.chat().bosToken(), loaded.chat().eosToken());
        this.fingerprint = fingerprint(loaded.config(), loaded.weights());
        this.tokenizer = TextTokenizer.fromJson(loaded.tokenizerJson(), loaded.id());
        this.bosText = chat.bosToken() != null ? chat.bosToken() : tokenizer.tokenText(config.bosTokenId());
        this.chatTemplate = chat.template() == null ? null
                : new ChatTemplate(chat.template(), bosTokenText(), eosTokenText(), LocalDate::now);
        try {
            this.transformer = new Transformer(loaded.config(), loaded.weights(), device, matrices);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /** Loads a GGUF file or a Hugging Face checkpoint directory (see {@link ModelReference} for hf: ids). */
    public static LanguageModel load(Path path, Device device) {
        return load(path, device, ai.djl.ndarray.types.DataType.FLOAT32);
    }

    /** With the weight matrices in {@code matrices} (laai.dtype; see {@link WeightType}). */
    public static LanguageModel load(Path path, Device device, ai.djl.ndarray.types.DataType matrices) {
        return load(path, device, matrices, null);
    }

    /** With {@code chatTemplate}, when not null, as the model's chat template in place of the one it ships (laai.chat-template). */
    public static LanguageModel load(Path path, Device device, ai.djl.ndarray.types.DataType matrices, String chatTemplate) {
        EngineThreads.configure(null, null); // the defaults, unless the service or -D set them first
        LoadedModel loaded;
        if (Files.isDirectory(path)) {
            loaded = HfCheckpointLoader.load(path);
        } else if (Files.isRegularFile(path)) {
            loaded = GgufModelLoader.load(path);
        } else {
            throw new ModelFormatException(path, "no such file or directory");
        }
        return new LanguageModel(loaded, device, matrices, chatTemplate);
    }

    public String id() {
        return id;
    }

    public ModelConfig config() {
        return config;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public Transformer transformer() {
        return transformer;
    }

    public String fingerprint() {
        return fingerprint;
    }

    public GenerationDefaults generationDefaults() {
        return generationDefaults;
    }

    /** The chat template the model ships (or the one given at load), if any. */
    public java.util.Optional<String> chatTemplate() {
        return java.util.Optional.ofNullable(chat.template());
    }

    /** The chat template, ready to render, if the model has one. */
    public java.util.Optional<ChatTemplate> chat() {
        return java.util.Optional.ofNullable(chatTemplate);
    }

    /**
     * The tokens of a conversation rendered by {@link #chat()}: without the tokenizer's special
     * tokens, since the template writes BOS itself (as transformers does). Chat requests and
     * chat-formatted demonstrations are both encoded here, so a task trains on what it serves.
     */
    public int[] encodeRendered(String rendered) {
        return tokenizer.encode(rendered, false);
    }

    /**
     * The tokens of a text prompt: with the tokenizer's special tokens (BOS), unless the text
     * already begins with the BOS token, as a prompt rendered by the chat template does; then it
     * is read as {@link #encodeRendered} reads it, and never gets a second BOS.
     */
    public int[] encodePrompt(String text) {
        return tokenizer.encode(text, bosText.isEmpty() || !text.startsWith(bosText));
    }

    /** The text of the model's BOS token as a chat template receives it (the tokenizer_config's, else the vocabulary's). */
    public String bosTokenText() {
        return bosText;
    }

    public String eosTokenText() {
        return chat.eosToken() != null ? chat.eosToken() : tokenizer.tokenText(config.eosTokenIds().get(0));
    }

    /**
     * SHA-256 of the config and of every weight's name, shape and float32 contents, in name order.
     * An lm_head equal to the token embedding counts as tied, so a GGUF and the checkpoint it came
     * from share a fingerprint.
     */
    static String fingerprint(ModelConfig config, Map<String, HostTensor> weights) {
        Map<String, HostTensor> canonical = new TreeMap<>(weights);
        HostTensor head = canonical.get("lm_head.weight");
        HostTensor embed = canonical.getOrDefault("model.embed_tokens.weight", canonical.get("transformer.wte.weight"));
        if (head != null && embed != null && java.util.Arrays.equals(head.data(), embed.data())) {
            canonical.remove("lm_head.weight");
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(config.canonical().getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, HostTensor> e : canonical.entrySet()) {
                sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update(java.util.Arrays.toString(e.getValue().shape()).getBytes(StandardCharsets.UTF_8));
                float[] data = e.getValue().data();
                ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < data.length; i++) {
                    if (b.remaining() < 4) {
                        sha.update(b.array(), 0, b.position());
                        b.clear();
                    }
                    b.putFloat(data[i]);
                }
                sha.update(b.array(), 0, b.position());
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        transformer.close();
        tokenizer.close();
    }
}
