package io.laai.edge;

import java.util.List;
import java.util.Set;

import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import io.laai.LaaiConfig;
import io.quarkus.runtime.StartupEvent;

/** With laai.edge.api-keys set, every /v1 call needs Authorization: Bearer one-of-them. */
public class ApiKeyFilter {

    private static final Logger LOG = Logger.getLogger(ApiKeyFilter.class);

    @Inject
    LaaiConfig config;

    private volatile Set<String> keys;

    void warnIfOpen(@jakarta.enterprise.event.Observes StartupEvent event) {
        if (keys().isEmpty()) {
            LOG.warn("laai.edge.api-keys is not set: the /v1 API is open to anyone who can reach it");
        }
    }

    @ServerRequestFilter
    public Response check(ContainerRequestContext request) {
        Set<String> keys = keys();
        if (keys.isEmpty() || !request.getUriInfo().getPath().startsWith("/v1")) {
            return null;
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        String key = header != null && header.startsWith("Bearer ") ? header.substring(7).trim() : null;
        if (key == null || !keys.contains(key)) {
            return Problem.response(401, "Unauthorized", key == null ? "an Authorization: Bearer <key> header is required"
                    : "the API key is not valid", request.getUriInfo().getPath());
        }
        return null;
    }

    /** Configuration is fixed at run time, so the set is built once rather than on every request. */
    private Set<String> keys() {
        Set<String> k = keys;
        if (k == null) {
            k = Set.copyOf(config.edge().apiKeys().orElse(List.of()).stream().filter(x -> !x.isBlank()).toList());
            keys = k;
        }
        return k;
    }
}
