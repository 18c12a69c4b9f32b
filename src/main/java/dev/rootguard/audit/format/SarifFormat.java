package dev.rootguard.audit.format;

import static dev.rootguard.audit.format.ReportText.objectName;
import static dev.rootguard.audit.format.ReportText.where;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.audit.AuditReport;
import dev.rootguard.json.Json;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.rule.Rule;
import dev.rootguard.policy.rule.RuleRegistry;
import java.util.HashMap;
import java.util.Map;

/** {@code -o sarif}: SARIF 2.1.0, one result per violation with file and line; unreadable documents as tool notifications. */
final class SarifFormat implements ReportFormat {

    @Override
    public String name() {
        return "sarif";
    }

    @Override
    public String render(AuditReport report, RuleRegistry rules, Action failOn) {
        try {
            return JsonFormat.MAPPER.writeValueAsString(sarif(report, rules)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode sarif(AuditReport report, RuleRegistry rules) {
        ObjectNode root = JsonFormat.MAPPER.createObjectNode();
        root.put(
                "$schema",
                "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json");
        root.put("version", "2.1.0");
        ObjectNode run = root.putArray("runs").addObject();
        ObjectNode driver = run.putObject("tool").putObject("driver");
        driver.put("name", "rootguard");
        ArrayNode ruleList = driver.putArray("rules");
        Map<String, Integer> ruleIndex = new HashMap<>();
        for (Rule r : rules.rules()) {
            ruleIndex.put(r.id(), ruleIndex.size());
            ObjectNode rn = ruleList.addObject();
            rn.put("id", r.id());
            rn.putObject("shortDescription").put("text", r.summary());
            rn.putObject("defaultConfiguration").put("level", level(r.defaultAction()));
        }
        ArrayNode results = run.putArray("results");
        ArrayNode notifications = JsonFormat.MAPPER.createArrayNode();
        for (AuditReport.Result r : report.results()) {
            if (r.status() == AuditReport.Status.ERROR) {
                ObjectNode n = notifications.addObject();
                n.put("level", "error");
                n.putObject("message").put("text", where(r.source()) + ": " + r.reason());
                if (r.source().file() != null) {
                    ObjectNode loc = n.putArray("locations").addObject().putObject("physicalLocation");
                    loc.putObject("artifactLocation").put("uri", uri(r.source().file()));
                    loc.putObject("region").put("startLine", r.source().line());
                }
                continue;
            }
            for (AuditReport.Finding f : r.violations()) {
                ObjectNode res = results.addObject();
                res.put("ruleId", f.rule());
                if (ruleIndex.containsKey(f.rule())) {
                    res.put("ruleIndex", ruleIndex.get(f.rule()));
                }
                res.put("level", level(f.action()));
                res.putObject("message").put("text", objectName(r) + ": " + f.path() + ": " + f.message());
                ObjectNode loc = res.putArray("locations").addObject();
                if (r.source().file() != null) {
                    ObjectNode phys = loc.putObject("physicalLocation");
                    phys.putObject("artifactLocation").put("uri", uri(r.source().file()));
                    phys.putObject("region").put("startLine", f.line() == null ? 1 : f.line());
                }
                loc.putArray("logicalLocations")
                        .addObject()
                        .put("fullyQualifiedName", objectName(r) + "/" + f.path())
                        .put("kind", "element");
                if (r.images() != null && !r.images().isEmpty()) {
                    // SARIF's property bag: what each container's image runs as (--resolve-images).
                    ArrayNode images = res.putObject("properties").putArray("images");
                    for (AuditReport.ImageUse u : r.images()) {
                        images.add(Json.MAPPER.valueToTree(u));
                    }
                }
            }
        }
        ObjectNode invocation = run.putArray("invocations").addObject();
        invocation.put("executionSuccessful", notifications.isEmpty());
        if (!notifications.isEmpty()) {
            invocation.set("toolExecutionNotifications", notifications);
        }
        return root;
    }

    private static String level(Action action) {
        return switch (action) {
            case ENFORCE -> "error";
            case WARN -> "warning";
            case AUDIT, OFF -> "note";
        };
    }

    private static String uri(String file) {
        return "-".equals(file) ? "stdin" : file.replace('\\', '/');
    }
}
