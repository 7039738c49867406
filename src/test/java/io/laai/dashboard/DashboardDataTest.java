package io.laai.dashboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.contract.TrainingEvents;
import io.laai.intervention.Intervention;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;

/** The dashboard's data, without the service: norms through an outcome event, and tokens per second. */
class DashboardDataTest {

    private static Intervention random(Site site) {
        Random r = new Random(7);
        TreeMap<Integer, float[]> deltas = new TreeMap<>();
        for (int layer : new int[] {0, 3}) {
            float[] v = new float[64];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian();
            }
            deltas.put(layer, v);
        }
        return new Intervention("t", 4, site, Positions.LAST, deltas, "sha256:x", 64, 8, 8, Map.of());
    }

    @Test
    void anOutcomeEventCarriesTheNormsTheDashboardDraws() throws Exception {
        ObjectMapper json = new ObjectMapper();
        for (Site site : Site.values()) {
            Intervention iv = random(site);
            var event = TrainingEvents.norms(TrainingEvents.of("t", TrainingEvents.PUBLISHED, "x").put("version", 4), iv);
            io.laai.edge.InterventionRegistry.Norms n = DashboardResource.fromEvent(json.readTree(json.writeValueAsBytes(event)));
            assertEquals(4, n.version());
            assertEquals(site.id(), n.site());
            assertEquals(iv.layerNorms(), n.layerNorms());
            assertEquals(iv.headNorms().keySet(), n.headNorms().keySet());
            iv.headNorms().forEach((l, h) -> assertArrayEquals(h, n.headNorms().get(l), 0));
            assertEquals(site == Site.ATTN_HEADS ? 2 : 0, n.headNorms().size());
        }
    }

    @Test
    void throughputIsTheRateOverTheLastTenSeconds() {
        Throughput t = new Throughput();
        long s = 1_000_000_000L;
        assertNull(t.rate(0, 0), "no rate from one sample");
        assertNull(t.rate(s / 2, 50), "nor over less than a second");
        assertEquals(100.0, t.rate(2 * s, 200), 1e-9);
        assertEquals(100.0, t.rate(10 * s, 1000), 1e-9);
        // 12 s: the samples at 0 and 0.5 s leave the window; the rate is since the 2 s one.
        assertEquals(1000.0 / 10, t.rate(12 * s, 1200), 1e-9);
        assertEquals(0.0, t.rate(30 * s, 1200), 1e-9, "idle: nothing generated since the last sample");
    }
}
