package dev.rootguard.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.policy.WorkloadKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chart's webhook rules and RBAC name exactly the kinds of {@link WorkloadKind}, in both directions: a kind
 * handled in code but missing from the chart would never reach the webhook, and one in the chart but not in
 * code would be sent to it for nothing. The same for {@code deploy/rootguard.yaml}, which is rendered from the
 * chart. Needs helm (in the provisioning cache), hence an IT.
 */
class ChartKindsIT {
    private static Rendered chart;
    private static Rendered deploy;

    @BeforeAll
    static void render() throws IOException {
        chart = Rendered.template();
        deploy = Rendered.parse(Files.readString(Path.of("deploy/rootguard.yaml")));
    }

    /** What the mutating webhook must be called for: every kind, on CREATE only (the engine mutates nothing else). */
    private static Set<String> mutated() {
        Set<String> out = new TreeSet<>();
        for (WorkloadKind k : WorkloadKind.values()) {
            for (String version : k.versions()) {
                out.add(entry(k.group(), version, k.resource(), "CREATE"));
            }
        }
        return out;
    }

    /** What the validating webhook must be called for: every kind on CREATE and UPDATE, and its checked subresources on UPDATE. */
    private static Set<String> validated() {
        Set<String> out = new TreeSet<>();
        for (WorkloadKind k : WorkloadKind.values()) {
            for (String version : k.versions()) {
                out.add(entry(k.group(), version, k.resource(), "CREATE"));
                out.add(entry(k.group(), version, k.resource(), "UPDATE"));
                for (String sub : k.subresources()) {
                    out.add(entry(k.group(), version, k.resource() + "/" + sub, "UPDATE"));
                }
            }
        }
        return out;
    }

    private static String entry(String group, String version, String resource, String operation) {
        return (group.isEmpty() ? "core" : group) + "/" + version + " " + resource + " " + operation;
    }

    /** Every (group, version, resource, operation) the webhook configuration's rules match. */
    private static Set<String> matched(JsonNode configuration) {
        Set<String> out = new TreeSet<>();
        for (JsonNode hook : configuration.path("webhooks")) {
            for (JsonNode rule : hook.path("rules")) {
                assertEquals("Namespaced", rule.path("scope").asText(), "every workload kind is namespaced: " + rule);
                for (JsonNode group : rule.path("apiGroups")) {
                    for (JsonNode version : rule.path("apiVersions")) {
                        for (JsonNode resource : rule.path("resources")) {
                            for (JsonNode op : rule.path("operations")) {
                                out.add(entry(group.asText(), version.asText(), resource.asText(), op.asText()));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Every (group, resource) the webhook's ClusterRole lets it list and watch, besides namespaces. */
    private static Set<String> listed(Rendered r) {
        Set<String> out = new TreeSet<>();
        for (JsonNode rule : r.one("ClusterRole").path("rules")) {
            Set<String> verbs = new TreeSet<>();
            rule.path("verbs").forEach(n -> verbs.add(n.asText()));
            if (!verbs.containsAll(Set.of("list", "watch")) || rule.has("resourceNames")) {
                continue;
            }
            for (JsonNode group : rule.path("apiGroups")) {
                for (JsonNode resource : rule.path("resources")) {
                    if (!(group.asText().isEmpty() && resource.asText().equals("namespaces"))) {
                        out.add((group.asText().isEmpty() ? "core" : group.asText()) + " " + resource.asText());
                    }
                }
            }
        }
        return out;
    }

    private static Set<String> audited() {
        Set<String> out = new TreeSet<>();
        for (WorkloadKind k : WorkloadKind.values()) {
            out.add((k.group().isEmpty() ? "core" : k.group()) + " " + k.resource());
        }
        return out;
    }

    @Test
    void theChartsMutatingWebhookRulesMatchTheWorkloadKinds() {
        assertEquals(mutated(), matched(chart.one("MutatingWebhookConfiguration")));
    }

    @Test
    void theChartsValidatingWebhookRulesMatchTheWorkloadKinds() {
        assertEquals(validated(), matched(chart.one("ValidatingWebhookConfiguration")));
    }

    @Test
    void theChartLetsTheAuditListAndWatchEveryWorkloadKind() {
        assertEquals(audited(), listed(chart));
    }

    @Test
    void deployRootguardYamlMatchesTheWorkloadKinds() {
        assertEquals(mutated(), matched(deploy.one("MutatingWebhookConfiguration")));
        assertEquals(validated(), matched(deploy.one("ValidatingWebhookConfiguration")));
        assertEquals(audited(), listed(deploy));
    }

    @Test
    void theTableIsWhatTheChecksCompareWith() {
        // A check over an empty table would pass for any chart.
        assertTrue(mutated().size() >= WorkloadKind.values().length);
        assertTrue(validated().size() > mutated().size());
    }
}
