package io.laai.kafka;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

/** The topics of README ("Kafka contracts") and their creation. */
public final class Topics {

    public static final String DEMONSTRATIONS = "laai.demonstrations";
    public static final String INTERVENTIONS = "laai.interventions";
    public static final String TRAINING_EVENTS = "laai.training-events";
    public static final String DEMONSTRATIONS_DLQ = "laai.demonstrations.dlq";
    /** The trainer's per-task state (window, version, last batch), from which a restarted trainer continues. */
    public static final String TRAINER_STATE = "laai.trainer-state";

    /** A task's window can approach a megabyte (laai.trainer.window x max-field-chars); its state record must fit. */
    public static final int MAX_STATE_BYTES = 4 * 1024 * 1024;

    /** Every topic LAAI uses. */
    public static final List<String> ALL = List.of(DEMONSTRATIONS, INTERVENTIONS, TRAINING_EVENTS, DEMONSTRATIONS_DLQ,
            TRAINER_STATE);

    private Topics() {
    }

    /**
     * The topic definitions; interventions and trainer-state are compacted because each holds the
     * newest record per task.
     */
    public static List<NewTopic> definitions(int partitions, int interventionsPartitions, Optional<Short> replication) {
        return List.of(
                new NewTopic(DEMONSTRATIONS, Optional.of(partitions), replication),
                new NewTopic(INTERVENTIONS, Optional.of(interventionsPartitions), replication)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
                new NewTopic(TRAINING_EVENTS, Optional.of(partitions), replication),
                new NewTopic(DEMONSTRATIONS_DLQ, Optional.of(partitions), replication),
                new NewTopic(TRAINER_STATE, Optional.of(interventionsPartitions), replication)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                                TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_STATE_BYTES))));
    }

    /** Creates the missing topics; existing ones keep their settings. Returns the names it created. */
    public static Set<String> createMissing(Admin admin, List<NewTopic> topics, long timeoutMs)
            throws InterruptedException, ExecutionException, TimeoutException {
        Set<String> existing = admin.listTopics().names().get(timeoutMs, TimeUnit.MILLISECONDS);
        List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).toList();
        if (!missing.isEmpty()) {
            try {
                admin.createTopics(missing).all().get(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                // Another instance may have created them between our list and create.
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                    throw e;
                }
            }
        }
        return Set.copyOf(missing.stream().map(NewTopic::name).toList());
    }
}
