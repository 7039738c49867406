package io.laai.edge;

import jakarta.ws.rs.core.Response;

/** An RFC 9457 problem: every error the API returns has this shape, with a detail that names the cause. */
public record Problem(String type, String title, int status, String detail, String instance) {

    public static final String MEDIA_TYPE = "application/problem+json";

    /** A problem, or OpenAI's error object where {@code instance} is an OpenAI-compatible path. */
    public static Response response(int status, String title, String detail, String instance) {
        if (OpenAiError.covers(instance)) {
            return OpenAiError.response(status, detail, null, null);
        }
        return Response.status(status).type(MEDIA_TYPE)
                .entity(new Problem("about:blank", title, status, detail, instance)).build();
    }

    /** With extension members (RFC 9457 §3.2) beside the standard ones. */
    public static Response response(int status, String title, String detail, String instance, java.util.Map<String, Object> more) {
        if (OpenAiError.covers(instance)) {
            return OpenAiError.response(status, detail, (String) more.get("param"), (String) more.get("code"));
        }
        if (more.isEmpty()) {
            return response(status, title, detail, instance);
        }
        java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("type", "about:blank");
        body.put("title", title);
        body.put("status", status);
        body.put("detail", detail);
        body.put("instance", instance);
        body.putAll(more);
        return Response.status(status).type(MEDIA_TYPE).entity(body).build();
    }

    /** Thrown by resources for client mistakes; mapped to its problem response. */
    public static final class Failure extends RuntimeException {
        final int status;
        final String title;
        final java.util.Map<String, Object> more;

        public Failure(int status, String title, String detail) {
            this(status, title, detail, java.util.Map.of());
        }

        public Failure(int status, String title, String detail, java.util.Map<String, Object> more) {
            super(detail);
            this.status = status;
            this.title = title;
            this.more = more;
        }

        /** The same failure naming the request field it is about (OpenAI's param). */
        public Failure param(String field) {
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>(more);
            m.put("param", field);
            return new Failure(status, title, getMessage(), m);
        }

        public static Failure notFound(String detail) {
            return new Failure(404, "Not Found", detail);
        }

        public static Failure badRequest(String detail) {
            return new Failure(400, "Bad Request", detail);
        }
    }
}
