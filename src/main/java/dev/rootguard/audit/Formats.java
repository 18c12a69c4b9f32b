package dev.rootguard.audit;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.rule.Rule;
import dev.rootguard.policy.rule.RuleRegistry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.StringWriter;
import java.util.Locale;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Element;

/** Renders an {@link AuditReport} as table, json, yaml, junit or sarif. */
public final class Formats {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER).build());

    private Formats() {
    }

    /** The output formats, by {@code -o} name. */
    public enum Format {
        TABLE, JSON, YAML, JUNIT, SARIF;

        public static Format parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown output format '" + s + "'; use table, json, yaml, junit or sarif");
            }
        }
    }

    public static String render(AuditReport report, Format format, RuleRegistry rules, Action failOn) {
        try {
            return switch (format) {
                case TABLE -> table(report);
                case JSON -> JSON.writeValueAsString(report) + "\n";
                case YAML -> YAML.writeValueAsString(report);
                case JUNIT -> junit(report, failOn);
                case SARIF -> JSON.writeValueAsString(sarif(report, rules)) + "\n";
            };
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String objectName(AuditReport.Result r) {
        if (r.kind() == null) {
            return "(unreadable document)";
        }
        return r.kind() + " " + (r.namespace() == null || r.namespace().isEmpty() ? "" : r.namespace() + "/") + r.name();
    }

    static String where(AuditReport.Source s) {
        if (s.file() == null) {
            return "cluster " + s.cluster();
        }
        return s.file() + " document " + s.document() + (s.item() != null ? " item " + s.item() : "") + " line " + s.line();
    }

    /** Human-readable: objects with violations or errors, each with rule, path and fix; then the summary. */
    static String table(AuditReport report) {
        StringBuilder sb = new StringBuilder();
        for (AuditReport.Result r : report.results()) {
            if (r.status() == AuditReport.Status.VIOLATIONS) {
                sb.append(objectName(r)).append("  (").append(where(r.source())).append(")\n");
                for (AuditReport.Finding f : r.violations()) {
                    sb.append(String.format("  %-7s  %-20s  %s%s%n", f.action().id().toUpperCase(Locale.ROOT), f.rule(), f.path(),
                            f.line() == null ? "" : "  (line " + f.line() + ")"));
                    sb.append("           ").append(f.message()).append('\n');
                }
                sb.append('\n');
            } else if (r.status() == AuditReport.Status.ERROR) {
                sb.append("ERROR ").append(where(r.source())).append(": ").append(r.reason()).append("\n\n");
            }
        }
        AuditReport.Summary s = report.summary();
        sb.append(String.format("%d objects: %d with violations, %d compliant, %d exempt, %d skipped (no pod spec); %d unreadable%n",
                s.objects(), s.withViolations(), s.objects() - s.withViolations() - s.exempt() - s.skipped(), s.exempt(), s.skipped(),
                s.errors()));
        s.violations().forEach((rule, byAction) -> {
            StringBuilder line = new StringBuilder("  ").append(rule).append(':');
            byAction.forEach((action, n) -> line.append(' ').append(n).append(' ').append(action));
            sb.append(line).append('\n');
        });
        return sb.toString();
    }

    /** One test case per object; violations at or above {@code failOn} are failures, errors are errors. */
    static String junit(AuditReport report, Action failOn) {
        try {
            var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().newDocument();
            Element suites = doc.createElement("testsuites");
            doc.appendChild(suites);
            Element suite = doc.createElement("testsuite");
            suites.appendChild(suite);
            int failures = 0;
            int errors = 0;
            int skipped = 0;
            for (AuditReport.Result r : report.results()) {
                Element tc = doc.createElement("testcase");
                tc.setAttribute("classname", r.source().file() != null ? r.source().file() : "cluster " + r.source().cluster());
                tc.setAttribute("name", objectName(r) + (r.kind() == null ? " at " + where(r.source()) : ""));
                tc.setAttribute("time", "0");
                StringBuilder lines = new StringBuilder();
                boolean failed = false;
                for (AuditReport.Finding f : r.violations()) {
                    lines.append('[').append(f.action().id()).append("] [").append(f.rule()).append("] ").append(f.path()).append(": ")
                            .append(f.message()).append('\n');
                    failed |= failOn != null && f.action().atLeast(failOn);
                }
                if (r.status() == AuditReport.Status.ERROR) {
                    Element e = doc.createElement("error");
                    e.setAttribute("message", r.reason());
                    e.setTextContent(where(r.source()) + ": " + r.reason());
                    tc.appendChild(e);
                    errors++;
                } else if (failed) {
                    Element f = doc.createElement("failure");
                    f.setAttribute("message", r.violations().size() + " violation(s)");
                    f.setAttribute("type", "rootguard");
                    f.setTextContent(lines.toString());
                    tc.appendChild(f);
                    failures++;
                } else if (r.status() == AuditReport.Status.SKIPPED || r.status() == AuditReport.Status.EXEMPT) {
                    Element s = doc.createElement("skipped");
                    s.setAttribute("message", r.reason());
                    tc.appendChild(s);
                    skipped++;
                } else if (lines.length() > 0) {
                    Element out = doc.createElement("system-out");
                    out.setTextContent(lines.toString());
                    tc.appendChild(out);
                }
                suite.appendChild(tc);
            }
            suite.setAttribute("name", "rootguard");
            suite.setAttribute("tests", Integer.toString(report.results().size()));
            suite.setAttribute("failures", Integer.toString(failures));
            suite.setAttribute("errors", Integer.toString(errors));
            suite.setAttribute("skipped", Integer.toString(skipped));
            var t = TransformerFactory.newInstance().newTransformer();
            t.setOutputProperty(OutputKeys.INDENT, "yes");
            t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
            StringWriter w = new StringWriter();
            t.transform(new DOMSource(doc), new StreamResult(w));
            return w + "\n";
        } catch (Exception e) {
            throw new IllegalStateException("cannot write JUnit XML", e);
        }
    }

    /** SARIF 2.1.0: one result per violation with file and line; unreadable documents as tool notifications. */
    static ObjectNode sarif(AuditReport report, RuleRegistry rules) {
        ObjectNode root = JSON.createObjectNode();
        root.put("$schema", "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json");
        root.put("version", "2.1.0");
        ObjectNode run = root.putArray("runs").addObject();
        ObjectNode driver = run.putObject("tool").putObject("driver");
        driver.put("name", "rootguard");
        ArrayNode ruleList = driver.putArray("rules");
        Map<String, Integer> ruleIndex = new java.util.HashMap<>();
        for (Rule r : rules.rules()) {
            ruleIndex.put(r.id(), ruleIndex.size());
            ObjectNode rn = ruleList.addObject();
            rn.put("id", r.id());
            rn.putObject("shortDescription").put("text", r.summary());
            rn.putObject("defaultConfiguration").put("level", level(r.defaultAction()));
        }
        ArrayNode results = run.putArray("results");
        ArrayNode notifications = JSON.createArrayNode();
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
                loc.putArray("logicalLocations").addObject().put("fullyQualifiedName", objectName(r) + "/" + f.path()).put("kind", "element");
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
