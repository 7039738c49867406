package io.laai.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test-only reader of llama2.c checkpoints (stories260K.bin), written out as a Hugging Face Llama
 * checkpoint with Q/K permuted exactly as transformers' conversion script does. It shares no
 * code with the GGUF loader, so the two paths check each other.
 */
public final class Llama2cCheckpoint {

    private Llama2cCheckpoint() {
    }

    /**
     * A llama2.c model with its own llama2.c tokenizer (tok512.bin) as a Hugging Face checkpoint
     * in {@code dir}: the tokenizer goes through a tokenizer-only GGUF, as llama.cpp's
     * convert-llama2c-to-ggml would write it, and the loader's own GGUF-to-tokenizer.json path.
     */
    public static Path writeHfCheckpoint(Path bin, Path tokenizerBin, Path dir) throws IOException {
        ByteBuffer t = ByteBuffer.wrap(Files.readAllBytes(tokenizerBin)).order(ByteOrder.LITTLE_ENDIAN);
        t.getInt(); // max_token_length
        java.util.List<String> pieces = new java.util.ArrayList<>();
        java.util.List<Float> scores = new java.util.ArrayList<>();
        java.util.List<Integer> types = new java.util.ArrayList<>();
        while (t.remaining() > 0) {
            float score = t.getFloat();
            byte[] bytes = new byte[t.getInt()];
            t.get(bytes);
            String piece = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
            int id = pieces.size();
            // llama2.c's export wrote BOS and EOS as "\n<s>\n" and "\n</s>\n" and spaces for SentencePiece's ▁.
            piece = id == 1 ? "<s>" : id == 2 ? "</s>" : piece.replace(' ', '\u2581');
            pieces.add(piece);
            scores.add(score);
            types.add(id == 0 ? 2 : id <= 2 ? 3 : piece.matches("<0x[0-9A-F]{2}>") ? 6 : 1);
        }
        Path gguf = Files.createTempFile("tokenizer", ".gguf");
        try {
            new GgufWriter().meta("general.architecture", "llama").meta("tokenizer.ggml.model", "llama")
                    .meta("tokenizer.ggml.tokens", pieces).meta("tokenizer.ggml.scores", scores)
                    .meta("tokenizer.ggml.token_type", types).meta("tokenizer.ggml.bos_token_id", 1)
                    .meta("tokenizer.ggml.eos_token_id", 2).meta("tokenizer.ggml.unknown_token_id", 0).write(gguf);
            writeHfCheckpoint(bin, GgufTokenizer.toTokenizerJson(GgufFile.open(gguf)), dir);
        } finally {
            Files.deleteIfExists(gguf);
        }
        return dir;
    }

    static void writeHfCheckpoint(Path bin, String tokenizerJson, Path dir) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        int dim = b.getInt();
        int hidden = b.getInt();
        int layers = b.getInt();
        int heads = b.getInt();
        int kvHeads = b.getInt();
        int vocab = b.getInt();
        int seqLen = b.getInt();
        boolean shared = vocab > 0;
        vocab = Math.abs(vocab);
        int headSize = dim / heads;
        int kvDim = kvHeads * headSize;
        Map<String, HostTensor> w = new LinkedHashMap<>();
        HostTensor embed = take(b, vocab, dim);
        w.put("model.embed_tokens.weight", embed);
        HostTensor[] rmsAtt = perLayer(b, layers, dim);
        HostTensor[] wq = perLayer(b, layers, dim, dim);
        HostTensor[] wk = perLayer(b, layers, kvDim, dim);
        HostTensor[] wv = perLayer(b, layers, kvDim, dim);
        HostTensor[] wo = perLayer(b, layers, dim, dim);
        HostTensor[] rmsFfn = perLayer(b, layers, dim);
        HostTensor[] w1 = perLayer(b, layers, hidden, dim);
        HostTensor[] w2 = perLayer(b, layers, dim, hidden);
        HostTensor[] w3 = perLayer(b, layers, hidden, dim);
        HostTensor rmsFinal = take(b, dim);
        b.position(b.position() + 2 * seqLen * headSize / 2 * 4); // freq_cis_real, freq_cis_imag
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", rmsAtt[l]);
            w.put(p + "self_attn.q_proj.weight", permute(wq[l], heads));
            w.put(p + "self_attn.k_proj.weight", permute(wk[l], kvHeads));
            w.put(p + "self_attn.v_proj.weight", wv[l]);
            w.put(p + "self_attn.o_proj.weight", wo[l]);
            w.put(p + "post_attention_layernorm.weight", rmsFfn[l]);
            w.put(p + "mlp.gate_proj.weight", w1[l]);
            w.put(p + "mlp.down_proj.weight", w2[l]);
            w.put(p + "mlp.up_proj.weight", w3[l]);
        }
        w.put("model.norm.weight", rmsFinal);
        w.put("lm_head.weight", shared ? embed : take(b, vocab, dim));
        Files.createDirectories(dir);
        Safetensors.write(dir.resolve("model.safetensors"), w, Map.of("format", "pt"));
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": %d,
                 "intermediate_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                 "num_key_value_heads": %d, "vocab_size": %d, "max_position_embeddings": %d,
                 "rms_norm_eps": 1e-05, "rope_theta": null, "tie_word_embeddings": false,
                 "bos_token_id": 1, "eos_token_id": [2], "torch_dtype": "float32"}
                """.formatted(dim, hidden, layers, heads, kvHeads, vocab, 2048));
        Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson);
    }

    /** transformers' permute: w.view(n_heads, d/2, 2, in).transpose(1, 2).reshape(out, in). */
    private static HostTensor permute(HostTensor w, int heads) {
        int out = w.dim(0);
        int in = w.dim(1);
        int half = out / heads / 2;
        float[] r = new float[w.data().length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int src = (h * half + i) * 2 + j;        // view (heads, half, 2)
                    int dst = (h * 2 + j) * half + i;        // after transpose: (heads, 2, half)
                    System.arraycopy(w.data(), src * in, r, dst * in, in);
                }
            }
        }
        return new HostTensor(w.shape(), r);
    }

    private static HostTensor take(ByteBuffer b, long... shape) {
        float[] data = new float[(int) HostTensor.numel(shape)];
        b.asFloatBuffer().get(data);
        b.position(b.position() + 4 * data.length);
        return new HostTensor(shape, data);
    }

    private static HostTensor[] perLayer(ByteBuffer b, int layers, long... shape) {
        HostTensor[] out = new HostTensor[layers];
        for (int l = 0; l < layers; l++) {
            out[l] = take(b, shape);
        }
        return out;
    }
}
