package io.laai.kafka;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** A record sent through an Emitter comes back through an @Incoming method, over the real broker. */
@QuarkusTest
@org.junit.jupiter.api.Tag("service")
@io.laai.RequiresSharedData
@QuarkusTestResource(KafkaTestResource.class)
class KafkaRoundTripTest {

    @Inject
    Probe probe;

    @Test
    void recordRoundTripsThroughARealTopic() {
        String payload = "hello-" + UUID.randomUUID();
        probe.send(payload);
        await().atMost(Duration.ofSeconds(30)).until(() -> probe.received().contains(payload));
    }

    @ApplicationScoped
    static class Probe {
        final List<String> received = new CopyOnWriteArrayList<>();

        @Inject
        @Channel("probe-out")
        Emitter<String> emitter;

        void send(String value) {
            emitter.send(value).toCompletableFuture().join();
        }

        List<String> received() {
            return received;
        }

        @Incoming("probe-in")
        void receive(String value) {
            received.add(value);
        }
    }
}
