package io.laai.dashboard;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;

import io.laai.Lifecycle;
import io.laai.edge.Problem;
import io.laai.edge.RegistryService;
import io.quarkus.runtime.StartupEvent;

/**
 * The browsers following laai.training-events: each open stream gets every new event (of its task,
 * when it named one) as it is read, and a comment every {@link #PING_SECONDS} s so that neither
 * the server's idle timeout nor a proxy closes a quiet stream. At most {@link #MAX_STREAMS} at once.
 */
@ApplicationScoped
public class EventStreams {

    static final int MAX_STREAMS = 32;
    static final int PING_SECONDS = 15;
    private static final Logger LOG = Logger.getLogger(EventStreams.class);

    private record Stream(SseEventSink sink, Sse sse, String task) {
    }

    private final Set<Stream> open = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService pings;
    private AutoCloseable subscription;

    @Inject
    RegistryService registry;

    @Inject
    Lifecycle lifecycle;

    /** After the registry and its training-events follower (which it subscribes to), before HTTP. */
    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 400) StartupEvent event) {
        registry.trainingStatus().ifPresent(status -> {
            subscription = status.subscribe(this::deliver);
            pings = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "laai-dashboard-pings");
                t.setDaemon(true);
                return t;
            });
            pings.scheduleAtFixedRate(this::ping, PING_SECONDS, PING_SECONDS, TimeUnit.SECONDS);
            lifecycle.opened("dashboard event streams", this::close);
        });
    }

    /** Starts a stream, or refuses it (503 where no edge runs, 429 when full) before anything is sent. */
    void open(SseEventSink sink, Sse sse, String task) {
        if (subscription == null) {
            throw new Problem.Failure(503, "Service Unavailable", "this role (laai.role) does not follow laai.training-events");
        }
        if (open.size() >= MAX_STREAMS) {
            throw new Problem.Failure(429, "Too Many Requests", "at most " + MAX_STREAMS
                    + " dashboard event streams may be open at once; close one or retry later");
        }
        Stream s = new Stream(sink, sse, task);
        open.add(s);
        send(s, sse.newEventBuilder().comment("following laai.training-events").build());
    }

    int size() {
        return open.size();
    }

    private void deliver(JsonNode event) {
        String task = event.path("task").asText();
        for (Stream s : open) {
            if (s.task == null || s.task.equals(task)) {
                send(s, s.sse.newEventBuilder().name("training").data(event.toString()).build());
            }
        }
    }

    private void ping() {
        for (Stream s : open) {
            send(s, s.sse.newEventBuilder().comment("ping").build());
        }
    }

    private void send(Stream s, OutboundSseEvent e) {
        if (s.sink.isClosed()) {
            open.remove(s);
            return;
        }
        try {
            s.sink.send(e).whenComplete((ok, failed) -> {
                if (failed != null) {
                    drop(s);
                }
            });
        } catch (RuntimeException gone) {
            drop(s);
        }
    }

    private void drop(Stream s) {
        if (open.remove(s)) {
            LOG.debugf("A dashboard event stream closed");
            try {
                s.sink.close();
            } catch (RuntimeException ignored) {
                // already gone
            }
        }
    }

    private void close() throws Exception {
        subscription.close();
        pings.shutdownNow();
        open.forEach(this::drop);
    }
}
