package io.laai.stream;

import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** The trainer's meters, registered once per pipeline. */
final class TrainerMetrics {
    final MeterRegistry registry;
    final Counter consumed;
    final Counter replayed;
    final Counter forwarded;
    final Counter published;
    final Counter deleted;
    final Counter aborted;
    final Timer training;
    final Timer latency;
    final AtomicLong lag = new AtomicLong();

    TrainerMetrics(MeterRegistry registry) {
        this.registry = registry;
        consumed = Counter.builder("laai.trainer.batches.consumed").description("records read from laai.demonstrations")
                .register(registry);
        replayed = Counter.builder("laai.trainer.batches.replayed")
                .description("records whose outcome was already committed (skipped)").register(registry);
        forwarded = Counter.builder("laai.trainer.batches.forwarded")
                .description("batches moved to the partition their task belongs to").register(registry);
        published = Counter.builder("laai.trainer.versions.published").description("versions published").register(registry);
        deleted = Counter.builder("laai.trainer.tasks.deleted").description("tombstones that cleared a task").register(registry);
        aborted = Counter.builder("laai.trainer.transactions.aborted")
                .description("outcome transactions aborted (retried, or replayed by the next owner)").register(registry);
        training = Timer.builder("laai.trainer.training")
                .description("the training that produced a candidate version (shared by tasks trained together)")
                .publishPercentiles(0.5, 0.95).register(registry);
        latency = Timer.builder("laai.trainer.batch.latency")
                .description("from a batch's produce timestamp to its artifact's commit")
                .publishPercentiles(0.5, 0.95).register(registry);
        io.micrometer.core.instrument.Gauge.builder("laai.trainer.consumer.lag", lag, AtomicLong::get)
                .description("records in laai.demonstrations this trainer's partitions hold beyond its committed offsets")
                .register(registry);
    }

    void rejected(String reason) {
        Counter.builder("laai.trainer.batches.rejected").description("batches sent to the dead-letter topic, by reason")
                .tag("reason", reason).register(registry).increment();
    }
}
