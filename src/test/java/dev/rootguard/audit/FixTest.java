package dev.rootguard.audit;

import static dev.rootguard.audit.AuditGoldenTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rootguard fix}: the webhook's defaults applied to manifests. */
class FixTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String BARE = """
            # A comment that must survive in documents fix does not change.
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings # trailing comment
            data:
              key: value
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: team-a
              annotations:
                example.com/unknown-to-rootguard: keep
            spec:
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  someFutureField: {kept: true}
                  containers:
                    - name: web
                      image: registry.example/web:1
                    - name: proxy
                      image: registry.example/proxy:1
                      securityContext:
                        runAsUser: 2000
            ---
            apiVersion: v1
            kind: List
            items:
              - apiVersion: v1
                kind: Pod
                metadata: {name: in-a-list}
                spec:
                  containers:
                    - name: app
                      image: registry.example/app:1
            """;

    private static AuditGoldenTest.Run fix(String input, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "fix";
        System.arraycopy(args, 0, all, 1, args.length);
        return cli(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), all);
    }

    @Test
    void fixedManifestsPassTheAuditAndKeepWhatTheUserWrote() throws Exception {
        var fixed = fix(BARE, "-f", "-");
        assertEquals(0, fixed.exit(), fixed.err());
        assertTrue(fixed.out().startsWith("""
                # A comment that must survive in documents fix does not change.
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings # trailing comment
                """), fixed.out());
        assertTrue(fixed.out().contains("example.com/unknown-to-rootguard: keep"));
        assertTrue(fixed.out().contains("someFutureField"));

        var audit = cli(new ByteArrayInputStream(fixed.out().getBytes(StandardCharsets.UTF_8)), "audit", "-f", "-", "-o", "json",
                "--fail-on", "any");
        JsonNode report = JSON.readTree(audit.out());
        assertEquals(0, audit.exit(), audit.out());
        assertEquals(0, report.at("/summary/withViolations").asInt());
        JsonNode deployment = report.at("/results/1");
        assertEquals("ok", deployment.path("status").asText());
        assertTrue(fixed.out().contains("runAsUser: 2000"), "explicit value kept");
    }

    @Test
    void objectsStillRejectedAfterDefaultingAreListedOnStderr() {
        String root = """
                apiVersion: v1
                kind: Pod
                metadata: {name: root, namespace: team-a}
                spec:
                  containers:
                    - name: app
                      image: registry.example/app:1
                      securityContext: {runAsUser: 0, privileged: true}
                """;
        var r = fix(root, "-f", "-");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("Pod team-a/root would still be rejected: [run-as-root] spec.containers[0].securityContext.runAsUser"),
                r.err());
        assertTrue(r.err().contains("[privileged]"), r.err());
        assertTrue(r.out().contains("runAsUser: 0"), "a forbidden value the user set is not overridden");
        assertTrue(r.out().contains("fsGroup: 10000"), "absent fields are still filled");
    }

    @Test
    void inPlaceRewritesFilesAndASecondRunChangesNothing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("app.yaml");
        Files.writeString(file, BARE);
        Path untouched = dir.resolve("nested/settings.yml");
        Files.createDirectories(untouched.getParent());
        Files.writeString(untouched, "apiVersion: v1\nkind: Service\nmetadata: {name: s}   # odd spacing kept\n");
        var first = cli(new ByteArrayInputStream(new byte[0]), "fix", "-f", dir.toString(), "--in-place");
        assertEquals(0, first.exit(), first.err());
        assertTrue(first.err().contains("app.yaml: 2 document(s) updated"), first.err());
        String once = Files.readString(file);
        assertTrue(once.contains("runAsNonRoot: true"));
        assertEquals("apiVersion: v1\nkind: Service\nmetadata: {name: s}   # odd spacing kept\n", Files.readString(untouched));
        var second = cli(new ByteArrayInputStream(new byte[0]), "fix", "-f", dir.toString(), "--in-place");
        assertEquals(0, second.exit());
        assertEquals(once, Files.readString(file), "fix is idempotent");
    }

    @Test
    void unreadableDocumentsAreLeftUnchangedAndReported() {
        String input = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [oops\n---\n" + BARE.substring(BARE.indexOf("apiVersion: apps/v1"));
        var r = fix(input, "-f", "-");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("- (document 0, line 1): left unchanged, cannot read it"), r.err());
        assertTrue(r.out().startsWith("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [oops\n---\n"), r.out());
        assertTrue(r.out().contains("runAsNonRoot: true"), "the other documents are still fixed");
    }

    @Test
    void standardInputCannotBeRewrittenInPlace() {
        var r = fix(BARE, "-f", "-", "--in-place");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--in-place"));
    }
}
