package io.laai.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import io.laai.model.GgufFile.GgmlType;

/**
 * A weight in ggml blocks as read from a GGUF file: each row is cols / blockSize blocks, so rows
 * can be permuted and decoded one at a time (bit for bit as llama.cpp dequantizes them).
 */
public record PackedTensor(long[] shape, GgmlType type, byte[] bytes) implements Weight {

    public PackedTensor {
        long n = HostTensor.numel(shape);
        int cols = (int) shape[shape.length - 1];
        if (type == GgmlType.F32 || cols % type.blockSize != 0
                || bytes.length != n / type.blockSize * type.blockBytes) {
            throw new IllegalArgumentException(type + " tensor of shape " + Arrays.toString(shape) + " cannot hold "
                    + bytes.length + " bytes in whole blocks per row");
        }
    }

    public int rowBytes() {
        return cols() / type.blockSize * type.blockBytes;
    }

    @Override
    public HostTensor host() {
        float[] out = new float[(int) HostTensor.numel(shape)];
        GgmlQuants.dequantize(type, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), out, out.length);
        return new HostTensor(shape, out);
    }

    @Override
    public void row(int r, float[] out) {
        int rb = rowBytes();
        GgmlQuants.dequantize(type, ByteBuffer.wrap(bytes, r * rb, rb).slice().order(ByteOrder.LITTLE_ENDIAN), out, cols());
    }

    /** The same weight with its rows reordered: row i of the result is row {@code from[i]} of this one. */
    PackedTensor permuteRows(int[] from) {
        int rb = rowBytes();
        byte[] out = new byte[bytes.length];
        for (int i = 0; i < from.length; i++) {
            System.arraycopy(bytes, from[i] * rb, out, i * rb, rb);
        }
        return new PackedTensor(shape, type, out);
    }
}
