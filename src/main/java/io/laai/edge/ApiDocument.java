package io.laai.edge;

import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.Components;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.info.License;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;
import org.eclipse.microprofile.openapi.annotations.servers.Server;

/**
 * The OpenAPI document's own parts (SmallRye reads them from the JAX-RS application class): the bearer scheme every /v1
 * endpoint takes when laai.edge.api-keys is set.
 */
@OpenAPIDefinition(
        info = @Info(title = "LAAI", version = "0.1.0",
                description = "Learn additive activation interventions from demonstrations and serve them.",
                license = @License(name = "Apache-2.0", url = "https://www.apache.org/licenses/LICENSE-2.0")),
        servers = @Server(url = "/", description = "this server"),
        security = @SecurityRequirement(name = "bearer"),
        components = @Components(securitySchemes = @SecurityScheme(securitySchemeName = "bearer",
                type = SecuritySchemeType.HTTP, scheme = "bearer",
                description = "one of laai.edge.api-keys; not needed when none is set")))
public class ApiDocument extends jakarta.ws.rs.core.Application {
}
