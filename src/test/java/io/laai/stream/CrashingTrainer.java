package io.laai.stream;

import java.nio.file.Path;
import java.time.Duration;

import ai.djl.Device;
import io.laai.contract.DemonstrationBatch;
import io.laai.model.LanguageModel;
import io.laai.train.TrainConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * A trainer in a JVM of its own that dies (Runtime.halt, as a kill -9 or the OOM killer would)
 * when it reaches step 3 of a training of the task named {@link #POISON}: what a poison batch does
 * to a real trainer; with a third argument "commit", it dies instead inside its first transaction
 * that publishes an artifact, after the records and offsets were sent and before the commit. Run
 * by {@link TrainerPipelineTest}. Arguments: bootstrap servers, model file[, commit].
 */
public final class CrashingTrainer {

    static final String POISON = "poison";
    static final String INSTANCE = "crash-test";

    private CrashingTrainer() {
    }

    static TrainerPipeline.Settings settings(String bootstrap) {
        return new TrainerPipeline.Settings(bootstrap, "trainers", INSTANCE, 16, DemonstrationBatch.Limits.DEFAULTS,
                TrainConfig.DEFAULTS, true, 1, 2000, 4).withAttempts(2, true);
    }

    public static void main(String[] args) throws Exception {
        LanguageModel lm = LanguageModel.load(Path.of(args[1]), Device.cpu());
        TrainerPipeline p = new TrainerPipeline(lm, settings(args[0]), new SimpleMeterRegistry());
        if (args.length > 2 && args[2].equals("commit")) {
            p.beforeCommit(records -> {
                if (records.stream().anyMatch(r -> r.topic().equals(io.laai.kafka.Topics.INTERVENTIONS))) {
                    System.out.println("halting inside the transaction");
                    System.out.flush();
                    Runtime.getRuntime().halt(137);
                }
            });
        }
        p.onStep((task, step) -> {
            if (task.equals(POISON) && step >= 3) {
                System.out.println("halting at step " + step + " of " + task);
                System.out.flush();
                Runtime.getRuntime().halt(137);
            }
        }).start();
        Thread.sleep(Duration.ofMinutes(3).toMillis()); // the parent kills it if it has not died by then
        System.exit(1);
    }
}
