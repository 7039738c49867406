package io.laai.model;

/** Rotary tables, in float64 then rounded once, with llama3 and linear scaling. */
public final class RopeTable {
    private RopeTable() {
    }

    /** cos and sin, each (P, d) flattened, rotate-half layout: column i and i + d/2 share a frequency. */
    public static float[][] cosSin(ModelConfig c) {
        int d = c.headDim();
        int n = c.maxPositionEmbeddings();
        double[] inv = inverseFrequencies(c);
        float[] cos = new float[n * d];
        float[] sin = new float[n * d];
        for (int p = 0; p < n; p++) {
            for (int i = 0; i < d / 2; i++) {
                // float32 angle, as the reference implementations compute it.
                float angle = (float) p * (float) inv[i];
                float cv = (float) Math.cos(angle);
                float sv = (float) Math.sin(angle);
                cos[p * d + i] = cv;
                cos[p * d + i + d / 2] = cv;
                sin[p * d + i] = sv;
                sin[p * d + i + d / 2] = sv;
            }
        }
        return new float[][] {cos, sin};
    }

    static double[] inverseFrequencies(ModelConfig c) {
        int d = c.headDim();
        double[] inv = new double[d / 2];
        for (int i = 0; i < d / 2; i++) {
            inv[i] = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / d);
        }
        ModelConfig.RopeScaling s = c.ropeScaling();
        if (s == null) {
            return inv;
        }
        if (s.type().equals("linear")) {
            for (int i = 0; i < inv.length; i++) {
                inv[i] /= s.factor();
            }
        } else if (s.type().equals("llama3")) {
            double lowWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
            double highWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
            for (int i = 0; i < inv.length; i++) {
                double wavelen = 2 * Math.PI / inv[i];
                if (wavelen > lowWavelen) {
                    inv[i] /= s.factor();
                } else if (wavelen >= highWavelen) {
                    double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                            / (s.highFreqFactor() - s.lowFreqFactor());
                    inv[i] = (1 - smooth) * inv[i] / s.factor() + smooth * inv[i];
                }
            }
        }
        return inv;
    }

    /** R with x @ R = cat(-x[d/2:], x[:d/2]). */
    static float[] rotateHalfMatrix(int d) {
        float[] r = new float[d * d];
        for (int j = 0; j < d / 2; j++) {
            r[(j + d / 2) * d + j] = -1f;
            r[j * d + j + d / 2] = 1f;
        }
        return r;
    }
}
