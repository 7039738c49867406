package io.laai.edge;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import java.util.function.Function;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.model.ContinuousGenerator;
import io.laai.model.Generator;

/**
 * Runs a request's choices on the edge's generator and answers them: all at once, or as OpenAI's
 * server-sent events ending with {@code data: [DONE]}. Every choice is admitted before the answer
 * starts, so refusals (queue full, prompt too long) are plain error responses; a failure after the
 * 200 is sent ends the stream with OpenAI's error object as an event.
 */
final class OpenAiEvents {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(OpenAiEvents.class);
    private static final String DONE = "[DONE]";

    private OpenAiEvents() {
    }

    /** Submits every choice; if one is refused, the ones already queued are cancelled and the refusal thrown. */
    static List<CompletableFuture<Generator.Result>> submitAll(GenerationService generation, List<Generator.Request> requests,
            List<Consumer<String>> onText) {
        List<CompletableFuture<Generator.Result>> running = new ArrayList<>();
        try {
            for (int i = 0; i < requests.size(); i++) {
                running.add(generation.submit(requests.get(i), onText == null ? null : onText.get(i)));
            }
        } catch (RuntimeException e) {
            running.forEach(f -> f.cancel(false));
            throw e;
        }
        return running;
    }

    /** Waits for every choice; the first failure is thrown as itself, for the error mappers. */
    static List<Generator.Result> join(List<CompletableFuture<Generator.Result>> running) {
        List<Generator.Result> out = new ArrayList<>();
        try {
            for (CompletableFuture<Generator.Result> f : running) {
                out.add(f.join());
            }
            return out;
        } catch (CompletionException e) {
            running.forEach(f -> f.cancel(false));
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }

    /** A queue of events for one streamed answer. */
    static final class Stream {
        private final BlockingQueue<String> events = new LinkedBlockingQueue<>();

        void send(Object event) {
            events.add(event instanceof String s ? s : JSON.valueToTree(event).toString());
        }

        /**
         * Once every choice ended: each result's closing events (onEnd), then the final events
         * (last), then [DONE]; a failure sends OpenAI's error object instead.
         */
        void finish(List<CompletableFuture<Generator.Result>> running, Function<List<Generator.Result>, List<Object>> last) {
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).whenComplete((ignored, e) -> {
                if (e == null) {
                    last.apply(running.stream().map(CompletableFuture::join).toList()).forEach(this::send);
                } else {
                    running.forEach(f -> f.cancel(false));
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    send(error(cause));
                }
                events.add(DONE);
            });
        }

        Response response(List<CompletableFuture<Generator.Result>> running) {
            StreamingOutput sse = out -> {
                try {
                    for (String e = take(); ; e = take()) {
                        out.write(("data: " + e + "\n\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        if (e.equals(DONE)) {
                            return;
                        }
                    }
                } catch (IOException | RuntimeException gone) {
                    running.forEach(f -> f.cancel(false)); // the client went away: free its rows
                    throw gone;
                }
            };
            return Response.ok(sse, MediaType.SERVER_SENT_EVENTS).header("Cache-Control", "no-cache").build();
        }

        private String take() throws IOException {
            try {
                return events.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while streaming", e);
            }
        }
    }

    /** OpenAI's error object for a failure after the stream began. */
    static Object error(Throwable e) {
        int status = e instanceof ContinuousGenerator.Refused r ? r.status()
                : e instanceof IllegalArgumentException ? 400
                : e instanceof Problem.Failure f ? f.status : 500;
        if (status == 500) {
            LOG.error("Unexpected failure while streaming", e);
        }
        String message = status == 500 ? "the server failed on this request; it is logged" : String.valueOf(e.getMessage());
        return OpenAiError.body(status, message, null, null);
    }
}
