package io.laai.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

import io.laai.model.GgufFile.GgmlType;
import io.laai.model.GgufWriter;
import io.laai.model.HostTensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Writes a random-weight GGUF with a real model's shape, so the benchmark can measure a model of
 * that size without downloading one: SmolLM2-135M's config (30 layers, 576 wide, 9 heads over 3
 * KV heads, a 49,152-token vocabulary, tied embeddings) with a byte-fallback vocabulary.
 */
@Command(name = "synthetic-model", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Write a random-weight GGUF shaped like SmolLM2-135M, for bench.")
public class SyntheticModelCommand implements Callable<Integer> {

    @Option(names = "--type", defaultValue = "q8_0", description = "weight matrices in f32, f16 or q8_0 (norms stay f32)")
    String type;

    @Option(names = "--out", required = true, description = "the GGUF file to write")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the random weights")
    long seed;

    static final int VOCAB = 49152;
    static final int DIM = 576;
    static final int FFN = 1536;
    static final int LAYERS = 30;
    static final int HEADS = 9;
    static final int KV_HEADS = 3;

    @Override
    public Integer call() throws Exception {
        GgmlType t = switch (type.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "q8_0" -> GgmlType.Q8_0;
            default -> throw new CliException("--type " + type + " is not one of f32, f16, q8_0");
        };
        Random r = new Random(seed);
        List<Object> tokens = new ArrayList<>();
        List<Object> scores = new ArrayList<>();
        List<Object> types = new ArrayList<>();
        tokens.add("<unk>");
        tokens.add("<s>");
        tokens.add("</s>");
        types.add(2);
        types.add(3);
        types.add(3);
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(6);
        }
        while (tokens.size() < VOCAB) {
            tokens.add("\u2581w" + tokens.size());
            types.add(1);
        }
        for (int i = 0; i < VOCAB; i++) {
            scores.add((float) -i);
        }
        GgufWriter w = new GgufWriter()
                .meta("general.architecture", "llama")
                .meta("general.name", "synthetic-smollm2-135m")
                .meta("llama.context_length", 2048)
                .meta("llama.embedding_length", DIM)
                .meta("llama.feed_forward_length", FFN)
                .meta("llama.attention.head_count", HEADS)
                .meta("llama.attention.head_count_kv", KV_HEADS)
                .meta("llama.block_count", LAYERS)
                .meta("llama.rope.freq_base", 100000f)
                .meta("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .meta("tokenizer.ggml.model", "llama")
                .meta("tokenizer.ggml.tokens", tokens)
                .meta("tokenizer.ggml.scores", scores)
                .meta("tokenizer.ggml.token_type", types)
                .meta("tokenizer.ggml.bos_token_id", 1)
                .meta("tokenizer.ggml.eos_token_id", 2);
        int kv = DIM / HEADS * KV_HEADS;
        w.tensor("token_embd.weight", random(r, 1f, VOCAB, DIM), t);
        w.tensor("output_norm.weight", ones(DIM), GgmlType.F32);
        for (int l = 0; l < LAYERS; l++) {
            String b = "blk." + l + ".";
            w.tensor(b + "attn_norm.weight", ones(DIM), GgmlType.F32);
            w.tensor(b + "attn_q.weight", random(r, 0.05f, DIM, DIM), t);
            w.tensor(b + "attn_k.weight", random(r, 0.05f, kv, DIM), t);
            w.tensor(b + "attn_v.weight", random(r, 0.05f, kv, DIM), t);
            w.tensor(b + "attn_output.weight", random(r, 0.05f, DIM, DIM), t);
            w.tensor(b + "ffn_norm.weight", ones(DIM), GgmlType.F32);
            w.tensor(b + "ffn_gate.weight", random(r, 0.05f, FFN, DIM), t);
            w.tensor(b + "ffn_up.weight", random(r, 0.05f, FFN, DIM), t);
            w.tensor(b + "ffn_down.weight", random(r, 0.05f, DIM, FFN), t);
        }
        w.write(out);
        System.out.println("wrote " + out + " (" + java.nio.file.Files.size(out) / (1 << 20) + " MiB)");
        return 0;
    }

    private static HostTensor random(Random r, float scale, long rows, long cols) {
        float[] data = new float[(int) (rows * cols)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) r.nextGaussian() * scale;
        }
        return new HostTensor(new long[] {rows, cols}, data);
    }

    private static HostTensor ones(int n) {
        float[] data = new float[n];
        java.util.Arrays.fill(data, 1f);
        return new HostTensor(new long[] {n}, data);
    }
}
