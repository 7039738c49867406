package io.laai.edge;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import com.fasterxml.jackson.core.JsonProcessingException;

/** Turns every failure into application/problem+json; client mistakes never become a 500. */
public class ProblemMappers {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(ProblemMappers.class);

    @Context
    UriInfo uri;

    @ServerExceptionMapper
    public Response failure(Problem.Failure e) {
        return Problem.response(e.status, e.title, e.getMessage(), path(), e.more);
    }

    @ServerExceptionMapper
    public Response badJson(JsonProcessingException e) {
        return Problem.response(400, "Bad Request", "the body is not valid JSON: " + e.getOriginalMessage(), path());
    }

    @ServerExceptionMapper
    public Response invalidBatch(io.laai.contract.DemonstrationBatch.Invalid e) {
        int status = switch (e.code()) {
            case io.laai.contract.DemonstrationBatch.Invalid.OVERSIZE -> 413;
            case io.laai.contract.DemonstrationBatch.Invalid.FINGERPRINT_MISMATCH -> 409;
            default -> 400;
        };
        return Problem.response(status, status == 413 ? "Content Too Large" : status == 409 ? "Conflict" : "Bad Request",
                e.getMessage(), path());
    }

    @ServerExceptionMapper
    public Response illegalArgument(IllegalArgumentException e) {
        return Problem.response(400, "Bad Request", e.getMessage(), path());
    }

    @ServerExceptionMapper
    public Response kafkaUnavailable(io.laai.kafka.KafkaPublisher.KafkaUnavailable e) {
        return Problem.response(503, "Service Unavailable", e.getMessage(), path());
    }

    @ServerExceptionMapper
    public Response refused(io.laai.model.ContinuousGenerator.Refused e) {
        Response r = Problem.response(e.status(), e.status() == 429 ? "Too Many Requests" : "Service Unavailable",
                e.getMessage(), path());
        return Response.fromResponse(r).header("Retry-After", Integer.toString(e.retryAfterSeconds())).build();
    }

    /** A bug, not a client mistake: logged with its stack, answered as a problem without internals. */
    @ServerExceptionMapper
    public Response unexpected(RuntimeException e) {
        LOG.error("Unexpected failure serving " + path(), e);
        return Problem.response(500, "Internal Server Error", "the server failed on this request; it is logged", path());
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        Response r = e.getResponse();
        return Problem.response(r.getStatus(), r.getStatusInfo().getReasonPhrase(), e.getMessage(), path());
    }

    private String path() {
        return uri == null ? null : uri.getPath();
    }
}
