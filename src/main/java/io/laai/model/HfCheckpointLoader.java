package io.laai.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A Hugging Face checkpoint directory: config.json (mapped by model_type, with the awkward fields
 * normalised), model.safetensors or its shards, tokenizer.json, and generation_config.json when present.
 */
public final class HfCheckpointLoader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HfCheckpointLoader() {
    }

    public static LoadedModel load(Path dir) {
        JsonNode cfg = readJson(dir.resolve("config.json"), true);
        String type = cfg.path("model_type").asText("");
        ModelConfig config = switch (type) {
            case "llama", "mistral", "qwen2" -> llama(cfg, type, dir);
            case "gpt2" -> gpt2(cfg, dir);
            default -> throw new ModelFormatException(dir.resolve("config.json"), "model_type '" + type
                    + "' is not supported (llama, mistral, qwen2, gpt2)");
        };
        Path tokenizer = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokenizer)) {
            throw new ModelFormatException(dir, "tokenizer.json is missing");
        }
        String tokenizerJson;
        try {
            tokenizerJson = Files.readString(tokenizer);
        } catch (IOException e) {
            throw new ModelFormatException(tokenizer, "cannot read: " + e.getMessage());
        }
        Map<String, HostTensor> weights = weights(dir, config);
        return new LoadedModel(dir.getFileName().toString(), config, weights, tokenizerJson, generation(dir), chat(dir));
    }

    private static ModelConfig llama(JsonNode c, String type, Path dir) {
        Path f = dir.resolve("config.json");
        int hidden = required(c, "hidden_size", f);
        int heads = required(c, "num_attention_heads", f);
        JsonNode rs = c.get("rope_scaling");
        ModelConfig.RopeScaling scaling = null;
        if (rs != null && rs.isObject()) {
            String kind = rs.has("rope_type") ? rs.path("rope_type").asText() : rs.path("type").asText();
            if (!kind.equals("llama3") && !kind.equals("linear") && !kind.equals("default")) {
                throw new ModelFormatException(f, "rope_scaling type '" + kind + "' is not supported (llama3, linear)");
            }
            if (!kind.equals("default")) {
                scaling = new ModelConfig.RopeScaling(kind, rs.path("factor").asDouble(1.0),
                        rs.path("low_freq_factor").asDouble(1.0), rs.path("high_freq_factor").asDouble(4.0),
                        rs.path("original_max_position_embeddings").asInt(8192));
            }
        }
        JsonNode theta = c.get("rope_theta");
        return new ModelConfig(ModelConfig.Family.LLAMA, required(c, "vocab_size", f), hidden,
                required(c, "intermediate_size", f), required(c, "num_hidden_layers", f), heads,
                c.path("num_key_value_heads").asInt(heads),
                c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / heads,
                c.path("max_position_embeddings").asInt(2048), c.path("rms_norm_eps").asDouble(1e-6),
                theta == null || theta.isNull() ? 10000.0 : theta.asDouble(), scaling,
                type.equals("qwen2") || c.path("attention_bias").asBoolean(false),
                c.path("tie_word_embeddings").asBoolean(false), c.path("bos_token_id").asInt(1), eos(c, 2));
    }

    private static ModelConfig gpt2(JsonNode c, Path dir) {
        Path f = dir.resolve("config.json");
        String act = c.path("activation_function").asText("gelu_new");
        if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
            throw new ModelFormatException(f, "activation_function '" + act + "' is not supported (gelu_new)");
        }
        int hidden = required(c, "n_embd", f);
        int heads = required(c, "n_head", f);
        return new ModelConfig(ModelConfig.Family.GPT2, required(c, "vocab_size", f), hidden,
                c.hasNonNull("n_inner") ? c.get("n_inner").asInt() : 4 * hidden, required(c, "n_layer", f), heads,
                heads, hidden / heads, c.path("n_positions").asInt(1024), c.path("layer_norm_epsilon").asDouble(1e-5),
                0, null, true, c.path("tie_word_embeddings").asBoolean(true), c.path("bos_token_id").asInt(50256),
                eos(c, 50256));
    }

    /** eos_token_id is an int in some configs and a list in others. */
    private static List<Integer> eos(JsonNode c, int fallback) {
        JsonNode e = c.get("eos_token_id");
        List<Integer> ids = new ArrayList<>();
        if (e != null && e.isArray()) {
            e.forEach(n -> ids.add(n.asInt()));
        } else if (e != null && e.isNumber()) {
            ids.add(e.asInt());
        }
        if (ids.isEmpty()) {
            ids.add(fallback);
        }
        return ids;
    }

    private static int required(JsonNode c, String field, Path file) {
        JsonNode n = c.get(field);
        if (n == null || !n.canConvertToInt()) {
            throw new ModelFormatException(file, field + " is missing or not an integer");
        }
        return n.asInt();
    }

    private static Map<String, HostTensor> weights(Path dir, ModelConfig config) {
        Map<String, Path> location = new LinkedHashMap<>();
        Path single = dir.resolve("model.safetensors");
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(single)) {
            Safetensors.readHeader(single).tensors().keySet().forEach(n -> location.put(n, single));
        } else if (Files.isRegularFile(index)) {
            JsonNode map = readJson(index, true).path("weight_map");
            if (!map.isObject()) {
                throw new ModelFormatException(index, "weight_map is missing");
            }
            map.fields().forEachRemaining(e -> {
                Path shard = dir.resolve(e.getValue().asText()).normalize();
                if (!shard.startsWith(dir.normalize())) {
                    throw new ModelFormatException(index, "shard " + e.getValue().asText() + " lies outside the checkpoint");
                }
                location.put(e.getKey(), shard);
            });
        } else {
            throw new ModelFormatException(dir, "neither model.safetensors nor model.safetensors.index.json is present");
        }
        Map<Path, Safetensors.Header> headers = new LinkedHashMap<>();
        for (Path shard : new TreeSet<>(location.values())) {
            headers.put(shard, Safetensors.readHeader(shard));
        }
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Path> e : location.entrySet()) {
            String name = e.getKey();
            if (name.endsWith("rotary_emb.inv_freq") || name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias")) {
                continue; // buffers, not weights
            }
            HostTensor t = Safetensors.read(headers.get(e.getValue()), name);
            if (config.family() == ModelConfig.Family.GPT2) {
                name = name.startsWith("transformer.") || name.startsWith("lm_head.") ? name : "transformer." + name;
                // Conv1D stores [in, out]; the runtime multiplies by [out, in].
                if (name.matches(".*\\.(c_attn|c_proj|c_fc)\\.weight")) {
                    t = t.transpose2d();
                }
            }
            out.put(name, t);
        }
        return out;
    }

    private static GenerationDefaults generation(Path dir) {
        JsonNode g = readJson(dir.resolve("generation_config.json"), false);
        if (g == null) {
            return GenerationDefaults.NONE;
        }
        boolean sample = g.path("do_sample").asBoolean(false);
        Double temperature = !sample && g.has("do_sample") ? Double.valueOf(0.0)
                : g.hasNonNull("temperature") && sample ? Double.valueOf(g.get("temperature").asDouble()) : null;
        return new GenerationDefaults(temperature, sample && g.hasNonNull("top_p") ? g.get("top_p").asDouble() : null,
                g.hasNonNull("max_new_tokens") ? g.get("max_new_tokens").asInt() : null);
    }

    /**
     * tokenizer_config.json's chat_template (a string, or a list of named templates of which
     * "default" is taken, as transformers does) and its bos/eos tokens (strings or AddedToken objects).
     */
    private static LoadedModel.Chat chat(Path dir) {
        Path file = dir.resolve("tokenizer_config.json");
        JsonNode t = readJson(file, false);
        if (t == null) {
            return LoadedModel.Chat.NONE;
        }
        JsonNode template = t.get("chat_template");
        String source = null;
        if (template != null && template.isTextual()) {
            source = template.asText();
        } else if (template != null && template.isArray()) {
            for (JsonNode named : template) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                    source = named.get("template").asText();
                }
            }
            if (source == null) {
                throw new ModelFormatException(file, "chat_template is a list without a template named 'default'");
            }
        } else if (template != null && !template.isNull()) {
            throw new ModelFormatException(file, "chat_template must be a string or a list of {name, template}");
        }
        return new LoadedModel.Chat(source, specialToken(t.get("bos_token")), specialToken(t.get("eos_token")));
    }

    private static String specialToken(JsonNode v) {
        if (v == null || v.isNull()) {
            return null;
        }
        return v.isTextual() ? v.asText() : v.path("content").isTextual() ? v.get("content").asText() : null;
    }

    private static JsonNode readJson(Path file, boolean required) {
        if (!Files.isRegularFile(file)) {
            if (required) {
                throw new ModelFormatException(file, "is missing");
            }
            return null;
        }
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || !n.isObject()) {
                throw new ModelFormatException(file, "is not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new ModelFormatException(file, "is not valid JSON: " + e.getMessage());
        }
    }
}
