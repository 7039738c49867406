package io.laai.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Byte-pair encoding of one pre-tokenized word, as Hugging Face tokenizers' BPE model does it:
 * the word's characters are the first symbols; the adjacent pair with the lowest merge rank is
 * merged first, the leftmost among equals, until no pair has a merge. A character outside the
 * vocabulary becomes its UTF-8 bytes' {@code <0xXX>} pieces (byte fallback) or the unknown piece.
 * A heap of candidate pairs keeps a whole SentencePiece prompt, which is one word, at n log n.
 */
final class Bpe {

    private final Map<String, Integer> vocab;
    private final String[] pieces; // id → piece
    private final Map<Long, int[]> merges; // (left id, right id) → {rank, merged id}
    private final int unk; // -1: none
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final boolean ignoreMerges;

    Bpe(Map<String, Integer> vocab, Map<Long, int[]> merges, int unk, boolean fuseUnk, boolean byteFallback,
            boolean ignoreMerges) {
        this.vocab = vocab;
        this.merges = merges;
        this.unk = unk;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        int size = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        this.pieces = new String[size];
        vocab.forEach((piece, id) -> pieces[id] = piece);
    }

    static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xffffffffL);
    }

    Integer id(String piece) {
        return vocab.get(piece);
    }

    /** The piece of an id, or null. */
    String piece(int id) {
        return id >= 0 && id < pieces.length ? pieces[id] : null;
    }

    int size() {
        return pieces.length;
    }

    /** Appends the word's ids to out. */
    void encode(String word, IntList out) {
        if (word.isEmpty()) {
            return;
        }
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        IntList symbols = new IntList();
        boolean lastUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            String ch = word.substring(i, i + Character.charCount(cp));
            i += ch.length();
            Integer id = vocab.get(ch);
            if (id != null) {
                symbols.add(id);
                lastUnk = false;
                continue;
            }
            if (byteFallback && addBytes(ch, symbols)) {
                lastUnk = false;
                continue;
            }
            if (unk < 0) {
                throw new IllegalArgumentException("the character U+" + Integer.toHexString(cp).toUpperCase()
                        + " is not in the vocabulary and the tokenizer has no unknown piece");
            }
            if (!(fuseUnk && lastUnk)) {
                symbols.add(unk);
            }
            lastUnk = true;
        }
        merge(symbols, out);
    }

    private boolean addBytes(String ch, IntList symbols) {
        byte[] bytes = ch.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int b = 0; b < bytes.length; b++) {
            Integer id = vocab.get(String.format("<0x%02X>", bytes[b] & 0xff));
            if (id == null) {
                return false;
            }
            ids[b] = id;
        }
        for (int id : ids) {
            symbols.add(id);
        }
        return true;
    }

    private record Candidate(int rank, int pos, int left, int right, int merged) {
    }

    private void merge(IntList symbols, IntList out) {
        int n = symbols.size();
        int[] id = symbols.toArray();
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] gone = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Candidate> heap = new PriorityQueue<>((a, b) -> a.rank != b.rank
                ? Integer.compare(a.rank, b.rank) : Integer.compare(a.pos, b.pos));
        for (int i = 0; i + 1 < n; i++) {
            offer(heap, i, id[i], id[i + 1]);
        }
        while (!heap.isEmpty()) {
            Candidate c = heap.poll();
            int right = next[c.pos];
            // Stale entries: a symbol already merged away, or a pair changed by an earlier merge.
            if (gone[c.pos] || right < 0 || id[c.pos] != c.left || id[right] != c.right) {
                continue;
            }
            id[c.pos] = c.merged;
            gone[right] = true;
            next[c.pos] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = c.pos;
                offer(heap, c.pos, id[c.pos], id[next[c.pos]]);
            }
            if (prev[c.pos] >= 0) {
                offer(heap, prev[c.pos], id[prev[c.pos]], id[c.pos]);
            }
        }
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            out.add(id[i]);
        }
    }

    private void offer(PriorityQueue<Candidate> heap, int pos, int left, int right) {
        int[] m = merges.get(pair(left, right));
        if (m != null) {
            heap.add(new Candidate(m[0], pos, left, right, m[1]));
        }
    }

    /** A growable int array. */
    static final class IntList {
        private int[] a = new int[16];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int size() {
            return n;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }

    static Map<Long, int[]> merges(Map<String, Integer> vocab, Iterable<String[]> pairs) {
        Map<Long, int[]> out = new HashMap<>();
        int rank = 0;
        for (String[] p : pairs) {
            Integer left = vocab.get(p[0]);
            Integer right = vocab.get(p[1]);
            Integer merged = vocab.get(p[0] + p[1]);
            if (left == null || right == null || merged == null) {
                throw new IllegalArgumentException("merge " + rank + " ('" + p[0] + "' '" + p[1]
                        + "') names a piece that is not in the vocabulary");
            }
            out.put(pair(left, right), new int[] {rank, merged}); // a repeated pair keeps its last rank, as Hugging Face's map does
            rank++;
        }
        return out;
    }
}
