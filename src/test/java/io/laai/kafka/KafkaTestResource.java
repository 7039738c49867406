package io.laai.kafka;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** One real embedded broker for the whole @QuarkusTest run, on free ports in a temp directory. */
public class KafkaTestResource implements QuarkusTestResourceLifecycleManager {

    private EmbeddedKafkaBroker broker;

    @Override
    public Map<String, String> start() {
        try {
            Path dir = Files.createTempDirectory("laai-test-kafka");
            broker = new EmbeddedKafkaBroker(dir, EmbeddedKafkaBroker.freePort(), EmbeddedKafkaBroker.freePort()).start();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return Map.of("kafka.bootstrap.servers", broker.bootstrapServers(),
                "laai.kafka.embedded.enabled", "false");
    }

    @Override
    public void stop() {
        if (broker != null) {
            broker.close();
        }
    }
}
