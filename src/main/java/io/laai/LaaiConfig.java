package io.laai;

import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Every {@code laai.*} setting. README's configuration table lists the same keys. */
@ConfigMapping(prefix = "laai")
public interface LaaiConfig {

    /** all | trainer | edge: which parts of the service run in this process. */
    @WithDefault("all")
    String role();

    /**
     * A GGUF file, a Hugging Face checkpoint directory, hf:owner/name[@revision] or
     * hf:owner/name/path/in/repo.gguf[@revision]; a comma-separated list is tried in order.
     */
    @WithDefault("hf:HuggingFaceTB/SmolLM2-135M")
    String model();

    /** auto | cpu | gpu. */
    @WithDefault("auto")
    String device();

    /** auto | f32 | f16: the weight matrices' storage and compute type (auto: f32 on CPU, f16 on a GPU). */
    @WithDefault("auto")
    String dtype();

    /**
     * A Jinja2 chat template file for /v1/chat/completions, in place of the model's own (the
     * chat_template of tokenizer_config.json or GGUF tokenizer.chat_template). Unset and a model
     * without a template: chat completions answer 400.
     */
    Optional<String> chatTemplate();

    Kafka kafka();

    Edge edge();

    Threads threads();

    /**
     * libtorch's thread pools. Unset: intra-op = half the CPUs this process may use (cgroup quota
     * aware, at least 1), inter-op = 1, since LAAI runs each step's operations from one thread and
     * libtorch's default (every core, spinning) collapses when the machine is shared.
     */
    interface Threads {
        Optional<Integer> intraOp();

        Optional<Integer> interOp();
    }

    Trainer trainer();

    /**
     * Defaults of the method's hyperparameters under their README names (the Training table) (laai.train.steps,
     * laai.train.lambda2, ...); a batch's "config" overrides them.
     */
    java.util.Map<String, String> train();

    interface Trainer {
        /** Consumer group of the trainers; instances in one group share the tasks. */
        @WithDefault("laai-trainer")
        String groupId();

        /** Most recent demonstrations a task trains on. */
        @WithDefault("64")
        int window();

        /** Most demonstrations in one batch. */
        @WithDefault("256")
        int maxDemonstrations();

        /** Longest prompt or completion in a batch, in characters. */
        @WithDefault("4000")
        int maxFieldChars();

        /** Largest batch record, in bytes. */
        @WithDefault("1000000")
        int maxBatchBytes();

        /** Publish only candidates that beat the base model and the previous version on held-out demonstrations. */
        @WithDefault("true")
        boolean gate();

        /** A progress event at each of the first this many optimisation steps, then every this many. */
        @WithDefault("5")
        int progressEvery();

        /** Most tasks trained together in one batched step (each row with its own task's Δ); 1 trains one at a time. */
        @WithDefault("4")
        int tasksPerStep();

        /** Batches received but not yet accounted for, beyond which the consumer pauses. */
        @WithDefault("2000")
        int maxInFlight();

        /** Most optimisation steps a batch's config may ask for. */
        @WithDefault("1000")
        int maxSteps();

        /** Largest patience a batch's config may ask for. */
        @WithDefault("200")
        int maxPatience();

        /** Wall-clock limit of one training; past it every fit stops with its best Δ so far. */
        @WithDefault("300")
        int maxTrainingSeconds();

        /**
         * Native memory one training step may use (forward and backward activations). Unset:
         * computed from the memory this process may use (see README). A demonstration that alone
         * needs more is refused; a window that needs more is trained in row chunks.
         */
        Optional<io.quarkus.runtime.configuration.MemorySize> memoryBudget();

        /** Trainings of a batch that ended with the process (a crash) before it goes to the DLQ as training-crashed. */
        @WithDefault("2")
        int maxAttempts();

        /** The consumer's session timeout: how soon the group notices a trainer that died. */
        @WithDefault("10s")
        java.time.Duration sessionTimeout();

        /**
         * Longest an outcome's transaction may stay open; a trainer killed inside one holds back
         * read_committed readers (edges, the next owner) at most this long (a restart under the same
         * instance id aborts it at once).
         */
        @WithDefault("15s")
        java.time.Duration transactionTimeout();

        /** Static group membership (group.instance.id = the instance id, e.g. the pod name): a restart with the same id rejoins at once. */
        @WithDefault("false")
        boolean staticMembership();
    }

    interface Edge {
        /**
         * What executes the model for serving: java (LAAI's own kernels on the weights in their
         * file's precision, no native library), djl (libtorch, as training) or auto (java on a CPU,
         * djl on a GPU).
         */
        @WithDefault("auto")
        String engine();

        /** Threads of the Java engine's matrix products and attention. Unset: every CPU the process may use. */
        Optional<Integer> threads();

        /** Longest prompt accepted, in characters. */
        @WithDefault("8000")
        int maxPromptChars();

        /** Most tokens one request may generate. */
        @WithDefault("512")
        int maxTokens();

        /** Largest |scale| (or composition weight) a request may apply to an intervention. */
        @WithDefault("16")
        double maxScale();

        /** Most requests decoded together (rows of the continuous batch). */
        @WithDefault("32")
        int maxBatch();

        /**
         * Columns of the shared KV cache (capped by the model's context): the longest prompt plus
         * completion one request may reach. Memory: max-batch x kv-tokens x the model's KV size per token.
         */
        @WithDefault("2048")
        int kvTokens();

        /**
         * Native memory the edge's generation may use: the shared KV cache plus the working memory
         * of the prefills and decode steps in flight. Unset: computed from the memory this process
         * may use (see README). A request whose worst case does not fit now waits; one that could
         * never fit is refused.
         */
        Optional<io.quarkus.runtime.configuration.MemorySize> memoryBudget();

        /** Most prompt tokens one prefill forward pass processes (summed over its rows): bounds its working memory. */
        @WithDefault("256")
        int prefillChunk();

        /** Requests waiting for a row beyond which new ones are refused with 429. */
        @WithDefault("64")
        int maxQueued();

        /** A request not finished within this time (waiting included) ends with 503. */
        @WithDefault("120s")
        java.time.Duration requestTimeout();

        /** On shutdown, how long running generations may take to finish before they end with 503. */
        @WithDefault("10s")
        java.time.Duration drainTimeout();

        /** Longest request URI, in characters (414 beyond). */
        @WithDefault("4096")
        int maxUriChars();

        /** Largest request body, in bytes (413 beyond). */
        @WithDefault("2097152")
        int maxBodyBytes();

        /** Bearer keys; when set, every /v1 call needs one. */
        Optional<java.util.List<String>> apiKeys();
    }

    interface Kafka {
        Embedded embedded();

        Topics topics();

        interface Embedded {
            /** Start a real Kafka broker (KRaft) inside this process. */
            @WithDefault("false")
            boolean enabled();

            @WithDefault("${user.home}/.laai/kafka")
            String dataDir();

            @WithDefault("9092")
            int port();

            @WithDefault("9093")
            int controllerPort();
        }

        interface Topics {
            /** Create the topics of README at start-up when missing (existing ones are left alone). */
            @WithDefault("true")
            boolean create();

            /** Partitions of laai.demonstrations, its DLQ and laai.training-events: the trainer parallelism. */
            @WithDefault("3")
            int partitions();

            /** Partitions of laai.interventions; every edge reads all of them. */
            @WithDefault("1")
            int interventionsPartitions();

            /** Replication factor for created topics; empty means the broker's default. */
            Optional<Short> replicationFactor();
        }
    }
}
