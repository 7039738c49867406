package io.laai.edge;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import io.laai.intervention.Positions;
import io.laai.intervention.Site;
import io.laai.kafka.Topics;

/** Publishes a random stories260K intervention to the interventions topic and waits until the edge serves it. */
final class TestInterventions {

    private TestInterventions() {
    }

    static Intervention publish(String bootstrap, RegistryService registry, String fingerprint, String task, long version)
            throws Exception {
        Random r = new Random(version);
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        Intervention iv = new Intervention(task, version, Site.RESIDUAL, Positions.LAST, new TreeMap<>(Map.of(3, v)),
                fingerprint, 64, 8, 8, Map.of("created_at", "2026-11-30T12:00:00Z"));
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(Topics.INTERVENTIONS, task, Artifacts.encode(iv))).get();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> registry.get(task).map(i -> i.version() == version).orElse(false));
        return registry.get(task).orElseThrow();
    }
}
