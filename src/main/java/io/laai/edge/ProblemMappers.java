package io.laai.edge;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import com.fasterxml.jackson.core.JsonProcessingException;

/** Turns every failure into application/problem+json; client mistakes never become a 500. */
public class ProblemMappers {

    @Context
    UriInfo uri;

    @ServerExceptionMapper
    public Response failure(Problem.Failure e) {
        return Problem.response(e.status, e.title, e.getMessage(), path());
    }

    @ServerExceptionMapper
    public Response badJson(JsonProcessingException e) {
        return Problem.response(400, "Bad Request", "the body is not valid JSON: " + e.getOriginalMessage(), path());
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
    public Response web(WebApplicationException e) {
        Response r = e.getResponse();
        return Problem.response(r.getStatus(), r.getStatusInfo().getReasonPhrase(), e.getMessage(), path());
    }

    private String path() {
        return uri == null ? null : uri.getPath();
    }
}
