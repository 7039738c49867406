package io.laai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import ai.djl.Device;
import io.laai.kafka.EmbeddedKafkaBroker;
import io.laai.model.ContinuousGenerator;
import io.laai.model.Generator;
import io.laai.model.LanguageModel;
import io.laai.model.ModelFormatException;
import io.laai.model.SamplingParams;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * The start and stop order (the same {@link Lifecycle} the service's events drive): stopping
 * during sixteen streaming generations, a start that fails part-way, and the settings check that
 * runs before anything opens.
 */
class LifecycleTest {

    @Test
    void stoppingDuringSixteenStreamsEndsEachCleanlyAndClosesTheModelLast() throws Exception {
        Lifecycle life = new Lifecycle();
        LanguageModel lm = LanguageModel.load(SharedData.stories260K(), Device.cpu());
        AtomicBoolean modelClosed = new AtomicBoolean();
        life.opened("model", () -> {
            modelClosed.set(true);
            lm.close();
        });
        ContinuousGenerator g = new ContinuousGenerator(lm, 8, 512);
        AtomicInteger cut = new AtomicInteger(-1);
        life.opened("edge generation", () -> cut.set(g.drain(Duration.ofMillis(300))));
        List<CompletableFuture<Generator.Result>> streams = new ArrayList<>();
        List<StringBuilder> texts = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            StringBuilder text = new StringBuilder();
            texts.add(text);
            // Long enough that some are running, some waiting for a row, when the stop comes.
            streams.add(g.submit(new Generator.Request("Once upon a time, number " + i,
                    new SamplingParams(400, 1.0, 1.0, i, List.of(), true), io.laai.model.Steering.NONE), t -> {
                        synchronized (text) {
                            text.setLength(0);
                            text.append(t);
                        }
                    }));
        }
        Thread.sleep(400);
        assertEquals(List.of("edge generation", "model"), life.closeAll());
        assertTrue(modelClosed.get());
        int finished = 0;
        int ended = 0;
        for (int i = 0; i < 16; i++) {
            try {
                Generator.Result r = streams.get(i).get(10, TimeUnit.SECONDS);
                finished++;
                synchronized (texts.get(i)) {
                    assertEquals(r.text(), texts.get(i).toString(), "a finished stream received its whole text");
                }
            } catch (java.util.concurrent.ExecutionException e) {
                ended++;
                assertTrue(e.getCause() instanceof ContinuousGenerator.Refused r && r.status() == 503, "a clean 503: " + e.getCause());
            }
        }
        assertEquals(16, finished + ended);
        assertEquals(ended, cut.get(), "the drain reports what it cut short");
        assertTrue(ended > 0, "the drain timeout cut some streams short (else the test stopped too late)");
        ContinuousGenerator.Refused refused = assertThrows(ContinuousGenerator.Refused.class,
                () -> g.submit(new Generator.Request("after", SamplingParams.greedy(4), io.laai.model.Steering.NONE), null));
        assertEquals(503, refused.status());
        assertTrue(life.closeAll().isEmpty(), "closing twice closes nothing twice");
    }

    @Test
    void aStartThatFailsPartWayReleasesWhatItOpenedSoTheNextStartBindsTheSamePorts() throws Exception {
        int port = EmbeddedKafkaBroker.freePort();
        int controller = EmbeddedKafkaBroker.freePort();
        Lifecycle first = new Lifecycle();
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(Files.createTempDirectory("laai-life"), port, controller).start();
        first.opened("embedded Kafka broker", broker);
        assertThrows(ModelFormatException.class, () -> LanguageModel.load(Path.of("/nonexistent/model.gguf"), Device.cpu()));
        first.destroyed(); // what the container does when start-up failed: ShutdownEvent never comes
        try (EmbeddedKafkaBroker again = new EmbeddedKafkaBroker(Files.createTempDirectory("laai-life"), port, controller)
                .start()) {
            assertEquals("localhost:" + port, again.bootstrapServers());
        }
    }

    /** The settings as Quarkus reads them (its converters for durations and memory sizes). */
    static SmallRyeConfig config(Map<String, String> values) {
        return new SmallRyeConfigBuilder().withMapping(LaaiConfig.class)
                .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withConverter(io.quarkus.runtime.configuration.MemorySize.class, 100,
                        new io.quarkus.runtime.configuration.MemorySizeConverter())
                .withSources(new PropertiesConfigSource(values, "test", 100)).build();
    }

    @Test
    void everyWrongSettingIsNamedBeforeAnythingStarts() {
        SmallRyeConfig all = config(Map.of("kafka.bootstrap.servers", "localhost:9092"));
        assertEquals(List.of(), ConfigCheck.problems(all.getConfigMapping(LaaiConfig.class), all));
        Map<String, String> wrong = Map.of("laai.role", "chef", "laai.edge.max-batch", "0", "laai.trainer.window", "-1",
                "laai.train.steps", "many", "laai.kafka.embedded.port", "70000", "laai.trainer.transaction-timeout", "10ms",
                "laai.device", "tpu", "laai.dtype", "bf16", "laai.edge.engine", "cuda", "laai.edge.threads", "0");
        SmallRyeConfig bad = config(wrong);
        String problems = String.join("\n", ConfigCheck.problems(bad.getConfigMapping(LaaiConfig.class), bad));
        for (String named : List.of("laai.role", "laai.edge.max-batch", "laai.trainer.window", "laai.train", "steps",
                "laai.kafka.embedded.port", "laai.trainer.transaction-timeout", "laai.device", "laai.dtype",
                "laai.edge.engine", "laai.edge.threads",
                "kafka.bootstrap.servers")) {
            assertTrue(problems.contains(named), named + " in:\n" + problems);
        }
    }
}
