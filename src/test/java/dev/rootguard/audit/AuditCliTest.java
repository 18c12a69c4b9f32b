package dev.rootguard.audit;

import static dev.rootguard.audit.AuditGoldenTest.cli;
import static dev.rootguard.audit.AuditGoldenTest.runCase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** Output formats, fail-on levels and usage errors of {@code rootguard audit}. */
class AuditCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final InputStream NO_INPUT = new ByteArrayInputStream(new byte[0]);

    private static JsonNode jsonReport(String name) throws Exception {
        return JSON.readTree(runCase(name).out());
    }

    private static final String TENANT_POD = """
            apiVersion: v1
            kind: Pod
            metadata: {name: api, namespace: team-a}
            spec:
              securityContext: {runAsNonRoot: true, runAsUser: 10000, runAsGroup: 10000, fsGroup: 10000, supplementalGroupsPolicy: Strict}
              containers:
              - name: api
                image: registry.example/api:1
                securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
            """;

    @Test
    void namespaceRangeStandsInForTheAnnotationOfflineForAuditAndFix() throws Exception {
        var plain = cli(
                new ByteArrayInputStream(TENANT_POD.getBytes(StandardCharsets.UTF_8)),
                "audit",
                "-f",
                "-",
                "-o",
                "json");
        assertEquals(0, plain.exit(), "offline, nothing is known about the namespace's range: " + plain.out());

        var ranged = cli(
                new ByteArrayInputStream(TENANT_POD.getBytes(StandardCharsets.UTF_8)),
                "audit",
                "-f",
                "-",
                "-o",
                "json",
                "--namespace-range",
                "team-a=1000000000/10000");
        assertEquals(1, ranged.exit(), ranged.out());
        JsonNode violations = JSON.readTree(ranged.out()).at("/results/0/violations");
        assertEquals(3, violations.size(), violations.toString());
        for (JsonNode v : violations) {
            assertEquals("id-range", v.path("rule").asText());
            assertTrue(v.path("message").asText().contains("1000000000-1000009999 of namespace team-a"), v.toString());
        }

        String bare =
                "apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: team-a}\nspec:\n  containers:\n  - {name: b, image: x}\n";
        var fixed = cli(
                new ByteArrayInputStream(bare.getBytes(StandardCharsets.UTF_8)),
                "fix",
                "-f",
                "-",
                "--namespace-range",
                "team-a=1000000000/10000");
        assertEquals(0, fixed.exit(), fixed.err());
        assertTrue(fixed.out().contains("runAsUser: 1000000000"), fixed.out());

        var bad = cli(NO_INPUT, "audit", "-f", "-", "--namespace-range", "team-a=1000000000-1000009999");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("--namespace-range team-a=1000000000-1000009999: not <start>/<size>"), bad.err());
    }

    @Test
    void yamlOutputIsTheJsonReport() throws Exception {
        var yaml = runCase("multi-document", "-o", "yaml");
        assertEquals(jsonReport("multi-document"), new YAMLMapper().readTree(yaml.out()));
    }

    @Test
    void tableGroupsByObjectWithRulePathLineAndFix() throws Exception {
        var run = runCase("multi-document", "-o", "table");
        assertEquals(1, run.exit());
        String out = run.out();
        assertTrue(
                out.contains(
                        "Pod team-a/root-pod  (src/test/resources/testdata/audit/multi-document/input.yaml document 0 line 4)"),
                out);
        assertTrue(
                out.contains("ENFORCE  run-as-root           spec.containers[0].securityContext.runAsUser  (line 14)"),
                out);
        assertTrue(out.contains("runAsUser: 0 runs container \"app\" as root; set a non-zero UID such as 10000"), out);
        assertTrue(
                out.contains(
                        "4 objects: 2 with violations, 1 compliant, 0 exempt, 1 skipped (no pod spec); 0 unreadable"),
                out);
    }

    @Test
    void junitHasOneTestCasePerObjectWithFailuresAndErrors() throws Exception {
        var run = runCase("malformed", "-o", "junit");
        var doc = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(new ByteArrayInputStream(run.out().getBytes(StandardCharsets.UTF_8)));
        Element suite = (Element) doc.getElementsByTagName("testsuite").item(0);
        JsonNode report = jsonReport("malformed");
        assertEquals(
                report.path("results").size(),
                doc.getElementsByTagName("testcase").getLength());
        assertEquals(Integer.toString(report.path("results").size()), suite.getAttribute("tests"));
        assertEquals("3", suite.getAttribute("errors"));
        assertEquals("1", suite.getAttribute("failures"));
        NodeList failures = doc.getElementsByTagName("failure");
        assertTrue(failures.item(0)
                .getTextContent()
                .contains("[enforce] [privileged] spec.containers[0].securityContext.privileged"));
        assertTrue(((Element) doc.getElementsByTagName("error").item(0))
                .getAttribute("message")
                .startsWith("malformed YAML"));
    }

    @Test
    void sarifIsVersion210WithFileAndLineOfEachViolation() throws Exception {
        JsonNode sarif = JSON.readTree(runCase("malformed", "-o", "sarif").out());
        assertEquals("2.1.0", sarif.path("version").asText());
        JsonNode run = sarif.path("runs").get(0);
        assertEquals("rootguard", run.at("/tool/driver/name").asText());
        Map<String, Integer> ruleIndex = new HashMap<>();
        JsonNode rules = run.at("/tool/driver/rules");
        for (int i = 0; i < rules.size(); i++) {
            ruleIndex.put(rules.get(i).path("id").asText(), i);
        }
        JsonNode report = jsonReport("malformed");
        int expected = 0;
        for (JsonNode r : report.path("results")) {
            expected += r.path("violations").size();
        }
        assertEquals(expected, run.path("results").size());
        JsonNode first = run.path("results").get(0);
        JsonNode finding = null;
        for (JsonNode r : report.path("results")) {
            if (finding == null && r.path("violations").size() > 0) {
                finding = r.path("violations").get(0);
            }
        }
        assertEquals(finding.path("rule").asText(), first.path("ruleId").asText());
        assertEquals(
                ruleIndex.get(finding.path("rule").asText()).intValue(),
                first.path("ruleIndex").asInt());
        assertEquals("error", first.path("level").asText());
        assertEquals(
                "src/test/resources/testdata/audit/malformed/input.yaml",
                first.at("/locations/0/physicalLocation/artifactLocation/uri").asText());
        assertEquals(
                finding.path("line").asInt(),
                first.at("/locations/0/physicalLocation/region/startLine").asInt());
        JsonNode warn = null;
        for (JsonNode r : run.path("results")) {
            if (r.path("ruleId").asText().equals("privilege-escalation")) {
                warn = r;
            }
        }
        assertEquals("warning", warn.path("level").asText());
        JsonNode invocation = run.path("invocations").get(0);
        assertEquals(false, invocation.path("executionSuccessful").asBoolean());
        assertEquals(3, invocation.path("toolExecutionNotifications").size());
        assertEquals(
                24,
                invocation
                        .at("/toolExecutionNotifications/1/locations/0/physicalLocation/region/startLine")
                        .asInt());
    }

    @ParameterizedTest(name = "--fail-on {0} -> {1}")
    @CsvSource({"enforce,0", "warn,1", "any,1", "never,0"})
    void failOnDecidesTheExitCodeForWarnings(String level, int exit) throws Exception {
        // Only a privilege-escalation (warn) violation in this input.
        var run = cli(
                Files.newInputStream(Path.of(AuditGoldenTest.ROOT + "/stdin/input.yaml")),
                "audit",
                "-f",
                "-",
                "-o",
                "json",
                "--fail-on",
                level);
        assertEquals(exit, run.exit(), run.err());
    }

    @ParameterizedTest(name = "--fail-on {0} -> {1}")
    @CsvSource({"warn,0", "any,1"})
    void auditOnlyViolationsFailOnlyWithAny(String level, int exit) throws Exception {
        var run = runCase("namespace-modes", "--namespace-mode", "legacy=audit", "--fail-on", level);
        assertEquals(exit, run.exit(), run.err());
    }

    @Test
    void usageErrorsExitWith2AndSayWhy() {
        var none = cli(NO_INPUT, "audit");
        assertEquals(2, none.exit());
        assertTrue(none.err().contains("-f FILE|DIR|-"), none.err());
        var unknown = cli(NO_INPUT, "audit", "--frobnicate");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("--frobnicate"), unknown.err());
        var badFormat = cli(NO_INPUT, "audit", "-f", "-", "-o", "html");
        assertEquals(2, badFormat.exit());
        assertTrue(badFormat.err().contains("html"), badFormat.err());
        var badKey = cli(NO_INPUT, "audit", "-f", "-", "-Drootguard.rules.run-as-rooot.action=warn");
        assertEquals(2, badKey.exit());
        assertTrue(badKey.err().contains("rootguard.rules.run-as-rooot.action"), badKey.err());
        var badValue = cli(NO_INPUT, "audit", "-f", "-", "-Drootguard.mode=block");
        assertEquals(2, badValue.exit());
        assertTrue(badValue.err().contains("rootguard.mode"), badValue.err());
        var badFailOn = cli(NO_INPUT, "audit", "-f", "-", "--fail-on", "sometimes");
        assertEquals(2, badFailOn.exit());
    }

    @Test
    void missingFileIsReportedAndTheRestIsStillAudited() throws Exception {
        var run = cli(
                NO_INPUT,
                "audit",
                "-f",
                "no/such/file.yaml",
                "-f",
                AuditGoldenTest.ROOT + "/list-object/input.yaml",
                "-o",
                "json");
        assertEquals(2, run.exit());
        JsonNode report = JSON.readTree(run.out());
        assertEquals("error", report.at("/results/0/status").asText());
        assertEquals("no/such/file.yaml", report.at("/results/0/source/file").asText());
        assertTrue(report.at("/results/0/reason").asText().contains("no such file"));
        assertEquals(2, report.at("/summary/objects").asInt());
    }

    @Test
    void configurationKeysAreTheWebhooks() throws Exception {
        var run = cli(
                Files.newInputStream(Path.of(AuditGoldenTest.ROOT + "/json-input/input.json")),
                "audit",
                "-f",
                "-",
                "-o",
                "json",
                "-Drootguard.rules.capabilities.allowed=SYS_PTRACE,NET_BIND_SERVICE");
        assertEquals(0, run.exit(), run.out() + run.err());
        var warn = cli(
                Files.newInputStream(Path.of(AuditGoldenTest.ROOT + "/json-input/input.json")),
                "audit",
                "-f",
                "-",
                "-o",
                "json",
                "-Drootguard.mode=warn");
        assertEquals(0, warn.exit());
        assertEquals(
                "warn",
                JSON.readTree(warn.out()).at("/results/0/violations/0/action").asText());
    }

    private static final String NET_BIND_POD =
            TENANT_POD.replace("capabilities: {drop: [ALL]}", "capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}");

    @Test
    void anEmptyCapabilityAllowlistRejectsEvenTheDefaultCapability() {
        var byDefault =
                cli(new ByteArrayInputStream(NET_BIND_POD.getBytes(StandardCharsets.UTF_8)), "audit", "-f", "-");
        assertEquals(0, byDefault.exit(), byDefault.out() + byDefault.err());
        var none = cli(
                new ByteArrayInputStream(NET_BIND_POD.getBytes(StandardCharsets.UTF_8)),
                "audit",
                "-f",
                "-",
                "-Drootguard.rules.capabilities.allowed=");
        assertEquals(1, none.exit(), none.out() + none.err());
        assertTrue(none.out().contains("capabilities"), none.out());
    }

    @Test
    void badConfigurationValuesExitWithTwoNamingKeyKindAndFix(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rootguard.yaml");
        Files.writeString(
                file, "rootguard:\n  tls: {engine: boring, reload-period: soon}\n  defaults: {run-as-user: abc}\n");
        var run = cli(
                new ByteArrayInputStream(TENANT_POD.getBytes(StandardCharsets.UTF_8)),
                "audit",
                "-f",
                "-",
                "--config",
                file.toString());
        assertEquals(2, run.exit(), run.out() + run.err());
        for (String expected : List.of(
                "rootguard.tls.engine: \"boring\" is not one of",
                "rootguard.tls.reload-period: \"soon\" is not a duration",
                "rootguard.defaults.run-as-user: \"abc\" is not a whole number")) {
            assertTrue(run.err().contains(expected), run.err());
        }
        assertFalse(run.err().contains("SRCFG") || run.err().contains("Exception"), run.err());
    }
}
