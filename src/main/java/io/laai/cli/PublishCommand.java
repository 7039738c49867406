package io.laai.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import io.laai.contract.TaskId;
import io.laai.intervention.Artifacts;
import io.laai.intervention.Intervention;
import io.laai.kafka.KafkaClients;
import io.laai.kafka.KafkaPublisher;
import io.laai.kafka.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Publishes an artifact trained offline to laai.interventions, where every edge picks it up. */
@Command(name = "publish", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Publish an intervention artifact to laai.interventions (key = its task).")
public class PublishCommand implements Callable<Integer> {

    @Option(names = "--intervention", required = true, description = "the artifact file (.safetensors)")
    Path intervention;

    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS, "
            + "bootstrap.servers in --kafka-config, else localhost:9092)")
    String bootstrapServers;

    @Option(names = "--kafka-config", description = "a Kafka client properties file (security.protocol, sasl.*, ssl.*, ...),"
            + " as Kafka's own tools take; KAFKA_* environment variables (KAFKA_SASL_JAAS_CONFIG, ...) also apply")
    Path kafkaConfig;

    @Override
    public Integer call() throws Exception {
        Intervention iv = Artifacts.read(intervention);
        String problem = TaskId.problem(iv.task());
        if (problem != null) {
            throw new CliException(intervention + ": " + problem);
        }
        KafkaClients clients;
        try {
            clients = KafkaClients.forCli(kafkaConfig, System.getenv(), bootstrapServers);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        ProducerRecord<String, byte[]> record = KafkaPublisher.record(Topics.INTERVENTIONS, iv.task(), Artifacts.encode(iv),
                Artifacts.headers(iv));
        try (KafkaProducer<String, byte[]> producer = clients.producer("cli", Map.of(ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true", ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000"))) {
            RecordMetadata m;
            try {
                m = producer.send(record).get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new CliException("Kafka at " + clients.bootstrapServers() + " did not take the artifact: "
                        + (e.getCause() == null ? e : e.getCause()).getMessage());
            }
            System.out.printf("published %s v%d to %s-%d@%d%n", iv.task(), iv.version(), m.topic(), m.partition(), m.offset());
        }
        return 0;
    }
}
