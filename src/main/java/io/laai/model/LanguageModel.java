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
import java.util.SortedSet;
import java.util.TreeSet;

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
    private final Transformer transformer; // null where only the Java engine was loaded
    private final Engine engine;
    private final String fingerprint;
    private final GenerationDefaults generationDefaults;
    private final LoadedModel.Chat chat;
    private final ChatTemplate chatTemplate;
    private final String bosText; // read on every prompt (encodePrompt), so decoded once

    private LanguageModel(LoadedModel loaded, Device device, ai.djl.ndarray.types.DataType matrices, String template,
            Engine.Choice engines) {
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
        Transformer t = null;
        try {
            if (engines.training() || engines.serving() == Engine.Kind.DJL) {
                Engine.requireLibtorch(engines.training() ? "training" : "laai.edge.engine=djl");
                t = new Transformer(loaded.config(), loaded.weights(), device, matrices);
            }
            this.engine = engines.serving() == Engine.Kind.JAVA
                    ? new io.laai.cpu.CpuEngine(loaded.config(), loaded.weights(), engines.threads()) : new DjlEngine(t);
        } catch (RuntimeException e) {
            if (t != null) {
                t.close();
            }
            tokenizer.close();
            throw e;
        }
        this.transformer = t;
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
        return load(path, device, matrices, chatTemplate, Engine.Choice.DJL);
    }

    /**
     * The Java engine alone (laai.role=edge on CPU): nothing of DJL is touched, so an edge-only build
     * without DJL's jars runs it.
     */
    public static LanguageModel loadJava(Path path, String chatTemplate, int threads) {
        return load(path, null, null, chatTemplate, new Engine.Choice(Engine.Kind.JAVA, false, threads));
    }

    /** With the engines {@code engines} names (the Java engine serving, DJL beside it only for training). */
    public static LanguageModel load(Path path, Device device, ai.djl.ndarray.types.DataType matrices, String chatTemplate,
            Engine.Choice engines) {
        EngineThreads.configure(null, null); // the defaults, unless the service or -D set them first
        LoadedModel loaded;
        if (Files.isDirectory(path)) {
            loaded = HfCheckpointLoader.load(path);
        } else if (Files.isRegularFile(path)) {
            loaded = GgufModelLoader.load(path);
        } else {
            throw new ModelFormatException(path, "no such file or directory");
        }
        return new LanguageModel(loaded, device, matrices, chatTemplate, engines);
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

    /** The DJL transformer, for training (autograd); absent where the process loaded the Java engine alone. */
    public Transformer transformer() {
        if (transformer == null) {
            throw new IllegalStateException("this process loaded the model for the Java engine only (laai.role=edge); "
                    + "training needs the DJL engine");
        }
        return transformer;
    }

    /** The engine that generates, scores and reads activations. */
    public Engine engine() {
        return engine;
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
    static String fingerprint(ModelConfig config, Map<String, ? extends Weight> weights) {
        // by name, one weight at a time: a loader's weights may be read from the file as they are asked for
        SortedSet<String> names = new TreeSet<>(weights.keySet());
        if (headIsEmbedding(weights)) {
            names.remove("lm_head.weight");
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(config.canonical().getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (String name : names) {
                Weight w = weights.get(name);
                sha.update(name.getBytes(StandardCharsets.UTF_8));
                sha.update(java.util.Arrays.toString(w.shape()).getBytes(StandardCharsets.UTF_8));
                // Row by row: a quantized weight is never widened whole just to be hashed.
                float[] row = new float[w.cols()];
                for (int r = 0; r < w.rows(); r++) {
                    w.row(r, row);
                    for (float v : row) {
                        if (b.remaining() < 4) {
                            sha.update(b.array(), 0, b.position());
                            b.clear();
                        }
                        b.putFloat(v);
                    }
                }
                sha.update(b.array(), 0, b.position());
                b.clear();
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean headIsEmbedding(Map<String, ? extends Weight> weights) {
        Weight head = weights.get("lm_head.weight");
        Weight embed = weights.containsKey("model.embed_tokens.weight") ? weights.get("model.embed_tokens.weight")
                : weights.get("transformer.wte.weight");
        return head != null && embed != null && sameValues(head, embed);
    }

    private static boolean sameValues(Weight a, Weight b) {
        if (!java.util.Arrays.equals(a.shape(), b.shape())) {
            return false;
        }
        if (a instanceof PackedTensor p && b instanceof PackedTensor q && p.type() == q.type()) {
            return java.util.Arrays.equals(p.bytes(), q.bytes());
        }
        float[] x = new float[a.cols()];
        float[] y = new float[b.cols()];
        for (int r = 0; r < a.rows(); r++) {
            a.row(r, x);
            b.row(r, y);
            if (!java.util.Arrays.equals(x, y)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        engine.close();
        if (transformer != null) {
            transformer.close();
        }
        tokenizer.close();
    }
}
