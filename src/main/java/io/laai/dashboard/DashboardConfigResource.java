package io.laai.dashboard;

import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;

import io.laai.LaaiConfig;

/**
 * The one thing the dashboard needs before a key: whether it must ask for one. Outside /v1, so
 * that a page without a key shows its login prompt rather than a failed request (and no data).
 */
@Path("/dashboard/config")
@Produces(MediaType.APPLICATION_JSON)
public class DashboardConfigResource {

    @Inject
    LaaiConfig config;

    @GET
    @Operation(hidden = true) // the page's own plumbing, not part of the API
    public Map<String, Object> config() {
        boolean keys = config.edge().apiKeys().orElse(List.of()).stream().anyMatch(k -> !k.isBlank());
        return Map.of("api_key_required", keys);
    }
}
