package io.laai.edge;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;

import io.laai.intervention.Intervention;

/** The interventions the edge holds: tasks, versions, metrics and per-layer norms. */
@Path("/v1/interventions")
@Produces(MediaType.APPLICATION_JSON)
public class InterventionsResource {

    @Inject
    RegistryService registry;

    /** One task's intervention as the API shows it. */
    public record Summary(String task, long version, String site, String positions, List<Integer> layers,
            Map<Integer, Double> layerNorms, Map<Integer, double[]> headNorms, Map<String, String> metadata) {

        static Summary of(Intervention iv) {
            return new Summary(iv.task(), iv.version(), iv.site().id(), iv.positions().id(),
                    new ArrayList<>(iv.deltas().keySet()), iv.layerNorms(), iv.headNorms(), iv.metadata());
        }
    }

    @GET
    @Operation(summary = "Every task the edge can apply, with its current version")
    public Map<String, List<Summary>> list() {
        List<Summary> out = new ArrayList<>();
        new TreeMap<>(registry.all()).values().forEach(iv -> out.add(Summary.of(iv)));
        Map<String, List<Summary>> body = new LinkedHashMap<>();
        body.put("interventions", out);
        return body;
    }

    @GET
    @Path("/{task}")
    @Operation(summary = "One task's intervention: version, metrics, per-layer and per-head norms")
    public Summary get(@PathParam("task") String task) {
        return Summary.of(registry.get(task).orElseThrow(() -> Problem.Failure.notFound("no intervention for task '" + task + "'")));
    }
}
