package io.laai.edge;

import jakarta.ws.rs.core.Response;

/** An RFC 9457 problem: every error the API returns has this shape, with a detail that names the cause. */
public record Problem(String type, String title, int status, String detail, String instance) {

    public static final String MEDIA_TYPE = "application/problem+json";

    public static Response response(int status, String title, String detail, String instance) {
        return Response.status(status).type(MEDIA_TYPE)
                .entity(new Problem("about:blank", title, status, detail, instance)).build();
    }

    /** Thrown by resources for client mistakes; mapped to its problem response. */
    public static final class Failure extends RuntimeException {
        final int status;
        final String title;

        public Failure(int status, String title, String detail) {
            super(detail);
            this.status = status;
            this.title = title;
        }

        public static Failure notFound(String detail) {
            return new Failure(404, "Not Found", detail);
        }

        public static Failure badRequest(String detail) {
            return new Failure(400, "Bad Request", detail);
        }
    }
}
