package io.laai.edge;

import java.nio.charset.StandardCharsets;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.laai.LaaiConfig;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Limits enforced before a request reaches a resource, answered as problem+json like every other
 * error: a URI over laai.edge.max-uri-chars (414) and a body whose Content-Length is over
 * laai.edge.max-body-bytes (413), refused before a byte of it is read; and paths no endpoint
 * serves (404). The HTTP server's own limits (quarkus.http.limits.*) sit above these, so they only
 * apply to requests no honest client sends (a body without Content-Length over the limit, a URI
 * beyond the line limit).
 */
@ApplicationScoped
public class HttpLimits {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    LaaiConfig config;

    void install(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).handler(this::check);
        router.route("/q/metrics").order(Integer.MIN_VALUE + 1).handler(HttpLimits::classicMetricsUnlessAsked);
        // Runs only when no endpoint took the request (every other route ends it instead of passing it on).
        router.route().order(Integer.MAX_VALUE - 100).handler(ctx -> problem(ctx, 404, "Not Found",
                "no endpoint serves " + ctx.request().method() + " " + abbreviate(ctx.request().path())));
    }

    /**
     * The Prometheus client answers OpenMetrics to {@code Accept: *}{@code /*}; scrapers and
     * promtool that did not ask for it expect the classic text format, so only a request naming
     * application/openmetrics-text gets OpenMetrics. The metrics route matches only its exact
     * media type (a plain {@code application/openmetrics-text} was a bodiless 406), so the
     * request is given that.
     */
    private static void classicMetricsUnlessAsked(RoutingContext ctx) {
        String accept = ctx.request().getHeader(HttpHeaders.ACCEPT);
        boolean openMetrics = accept != null && accept.contains("application/openmetrics-text");
        ctx.request().headers().set(HttpHeaders.ACCEPT, openMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                : "text/plain; version=0.0.4");
        ctx.next();
    }

    private void check(RoutingContext ctx) {
        LaaiConfig.Edge limits = config.edge();
        String uri = ctx.request().uri();
        if (uri.length() > limits.maxUriChars()) {
            problem(ctx, 414, "URI Too Long", "the request URI has " + uri.length() + " characters; the limit is "
                    + limits.maxUriChars() + " (laai.edge.max-uri-chars)");
            return;
        }
        String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            long n;
            try {
                n = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 0) {
                problem(ctx, 400, "Bad Request", "Content-Length '" + abbreviate(length) + "' is not a byte count");
                return;
            }
            if (n > limits.maxBodyBytes()) {
                problem(ctx, 413, "Content Too Large", "the body is " + n + " bytes; the limit is " + limits.maxBodyBytes()
                        + " (laai.edge.max-body-bytes)");
                return;
            }
        }
        ctx.next();
    }

    /** Writes a problem and closes the connection: the body the client may still send is never read. */
    static void problem(RoutingContext ctx, int status, String title, String detail) {
        byte[] body;
        try {
            String path = ctx.request().path();
            body = JSON.writeValueAsBytes(OpenAiError.covers(path) ? OpenAiError.body(status, detail, null, null)
                    : new Problem("about:blank", title, status, detail, abbreviate(path)));
        } catch (JsonProcessingException e) {
            body = ("{\"status\":" + status + "}").getBytes(StandardCharsets.UTF_8);
        }
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE,
                OpenAiError.covers(ctx.request().path()) ? "application/json" : Problem.MEDIA_TYPE)
                .putHeader(HttpHeaders.CONNECTION, "close").end(io.vertx.core.buffer.Buffer.buffer(body));
    }

    private static String abbreviate(String s) {
        return s == null ? null : s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
