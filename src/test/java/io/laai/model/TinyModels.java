package io.laai.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** Random tiny Llama models written to a temp dir, with stories260K's vocabulary, for plumbing tests. */
final class TinyModels {

    static final int DIM = 32;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int FFN = 64;

    private TinyModels() {
    }

    /** Writes a GGUF file whose weights are stored as the given type (norms stay f32, as llama.cpp does). */
    static Path llamaGguf(Path file, GgufFile.GgmlType type, long seed, int context) throws IOException {
        GgufFile vocabSource = GgufFile.open(io.laai.SharedData.stories260K());
        int vocab = vocabSource.array("tokenizer.ggml.tokens").size();
        Random r = new Random(seed);
        GgufWriter w = new GgufWriter()
                .meta("general.architecture", "llama")
                .meta("general.name", "tiny")
                .meta("llama.context_length", context)
                .meta("llama.embedding_length", DIM)
                .meta("llama.feed_forward_length", FFN)
                .meta("llama.attention.head_count", HEADS)
                .meta("llama.attention.head_count_kv", KV_HEADS)
                .meta("llama.block_count", LAYERS)
                .meta("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .meta("tokenizer.ggml.model", "llama")
                .meta("tokenizer.ggml.tokens", vocabSource.array("tokenizer.ggml.tokens"))
                .meta("tokenizer.ggml.scores", vocabSource.array("tokenizer.ggml.scores"))
                .meta("tokenizer.ggml.token_type", vocabSource.array("tokenizer.ggml.token_type"))
                .meta("tokenizer.ggml.bos_token_id", 1)
                .meta("tokenizer.ggml.eos_token_id", 2);
        w.tensor("token_embd.weight", random(r, 1.0f, vocab, DIM), type);
        w.tensor("output_norm.weight", ones(DIM), GgufFile.GgmlType.F32);
        int kvDim = DIM / HEADS * KV_HEADS;
        for (int l = 0; l < LAYERS; l++) {
            String b = "blk." + l + ".";
            w.tensor(b + "attn_q.weight", random(r, 0.3f, DIM, DIM), type);
            w.tensor(b + "attn_k.weight", random(r, 0.3f, kvDim, DIM), type);
            w.tensor(b + "attn_v.weight", random(r, 0.3f, kvDim, DIM), type);
            w.tensor(b + "attn_output.weight", random(r, 0.3f, DIM, DIM), type);
            w.tensor(b + "attn_norm.weight", ones(DIM), GgufFile.GgmlType.F32);
            w.tensor(b + "ffn_gate.weight", random(r, 0.3f, FFN, DIM), type);
            w.tensor(b + "ffn_up.weight", random(r, 0.3f, FFN, DIM), type);
            w.tensor(b + "ffn_down.weight", random(r, 0.3f, DIM, FFN), type);
            w.tensor(b + "ffn_norm.weight", ones(DIM), GgufFile.GgmlType.F32);
        }
        w.write(file);
        return file;
    }

    static HostTensor random(Random r, float scale, long... shape) {
        float[] data = new float[(int) HostTensor.numel(shape)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) r.nextGaussian() * scale;
        }
        return new HostTensor(shape, data);
    }

    static HostTensor ones(int n) {
        float[] data = new float[n];
        java.util.Arrays.fill(data, 1f);
        return new HostTensor(new long[] {n}, data);
    }

    static List<String> prompts() {
        return List.of("Once upon a time", "The dog ran");
    }
}
