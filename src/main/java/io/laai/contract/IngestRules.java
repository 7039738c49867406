package io.laai.contract;

import io.laai.LaaiConfig;
import io.laai.model.LanguageModel;
import io.laai.model.MemoryEstimate;
import io.laai.train.TrainConfig;
import io.quarkus.runtime.configuration.ConfigurationException;

/** What every entry point of demonstrations applies (HTTP ingest refuses what the trainer would dead-letter). */
public final class IngestRules {

    /** Share of the memory left beside the heap and the weights that training takes by default (the edge takes as much). */
    public static final double TRAINER_SHARE = 0.4;

    private IngestRules() {
    }

    /** The batch limits of laai.trainer.*. */
    public static DemonstrationBatch.Limits limits(LaaiConfig.Trainer t) {
        return new DemonstrationBatch.Limits(t.maxDemonstrations(), t.maxFieldChars(), t.maxBatchBytes(), t.maxSteps(),
                t.maxPatience());
    }

    /** laai.trainer.memory-budget, or its default for this model and process. */
    public static long memoryBudget(LaaiConfig.Trainer t, LanguageModel lm) {
        return t.memoryBudget().map(m -> m.asLongValue())
                .orElseGet(() -> new MemoryEstimate(lm.config()).defaultBudget(TRAINER_SHARE));
    }

    /** laai.train.* over the built-in defaults; a wrong key or value stops start-up with one line. */
    public static TrainConfig trainDefaults(LaaiConfig config) {
        try {
            return TrainConfig.DEFAULTS.with(config.train());
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("laai.train.*: " + e.getMessage());
        }
    }
}
