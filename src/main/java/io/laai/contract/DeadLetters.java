package io.laai.contract;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

import io.laai.kafka.Topics;

/**
 * README's DLQ record: the original key, value and headers, plus why (laai-error, a stable code
 * from {@link DemonstrationBatch.Invalid} or below; laai-error-detail, a sentence) and where the
 * record came from (laai-original-topic, -partition, -offset).
 */
public final class DeadLetters {

    /** The training threw: the batches' settings or data cannot be trained on. */
    public static final String TRAINING_FAILED = "training-failed";
    /** The trainer process died during laai.trainer.max-attempts trainings of these batches. */
    public static final String TRAINING_CRASHED = "training-crashed";
    /** Header of a training-crashed record: how many trainings the process did not survive. */
    public static final String ATTEMPTS = "laai-attempts";
    /** Header of a batch a trainer moved to the partition its task belongs to: topic/partition/offset it arrived at. */
    public static final String FORWARDED_FROM = "laai-forwarded-from";

    private static final int MAX_DETAIL_CHARS = 2000;

    private DeadLetters() {
    }

    public static ProducerRecord<String, byte[]> record(ConsumerRecord<String, byte[]> r, String code, String detail) {
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(Topics.DEMONSTRATIONS_DLQ, r.key(), r.value());
        for (Header h : r.headers()) {
            out.headers().add(h);
        }
        String d = detail == null ? code : detail.length() <= MAX_DETAIL_CHARS ? detail : detail.substring(0, MAX_DETAIL_CHARS);
        Map<String, String> reason = new LinkedHashMap<>();
        reason.put("laai-error", code);
        reason.put("laai-error-detail", d);
        reason.put("laai-original-topic", r.topic());
        reason.put("laai-original-partition", Integer.toString(r.partition()));
        reason.put("laai-original-offset", Long.toString(r.offset()));
        reason.forEach((k, v) -> out.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        return out;
    }

    /** The batch, moved unchanged (key, value, headers) to the partition its task belongs to. */
    public static ProducerRecord<String, byte[]> forward(ConsumerRecord<String, byte[]> r, int home) {
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(r.topic(), home, r.key(), r.value());
        for (Header h : r.headers()) {
            out.headers().add(h);
        }
        out.headers().add(FORWARDED_FROM, (r.topic() + "/" + r.partition() + "/" + r.offset()).getBytes(StandardCharsets.UTF_8));
        return out;
    }
}
