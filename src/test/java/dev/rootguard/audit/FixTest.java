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
import java.util.List;
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
        List<Document> docs = ManifestReader.parse("fixed", fixed.out());
        JsonNode deploymentDoc = docs.get(1).raw();
        assertEquals(
                "keep",
                deploymentDoc
                        .at("/metadata/annotations/example.com~1unknown-to-rootguard")
                        .asText());
        assertEquals(
                true,
                deploymentDoc.at("/spec/template/spec/someFutureField/kept").asBoolean());
        assertEquals(
                2000,
                deploymentDoc
                        .at("/spec/template/spec/containers/1/securityContext/runAsUser")
                        .asInt(),
                "explicit value kept");

        var audit = cli(
                new ByteArrayInputStream(fixed.out().getBytes(StandardCharsets.UTF_8)),
                "audit",
                "-f",
                "-",
                "-o",
                "json",
                "--fail-on",
                "any");
        JsonNode report = JSON.readTree(audit.out());
        assertEquals(0, audit.exit(), audit.out());
        assertEquals(0, report.at("/summary/withViolations").asInt());
        JsonNode deployment = report.at("/results/1");
        assertEquals("ok", deployment.path("status").asText());
    }

    @Test
    void stringsThatLookLikeNumbersOrBooleansStayStringsAndJsonStaysJson() throws Exception {
        String pod = """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: p
                  annotations: {a: "1e3", b: "0x1F", c: "yes", d: "1_000", e: ".inf", f: "8080"}
                spec:
                  containers:
                    - name: app
                      image: registry.example/app:1
                      env: [{name: PORT, value: "8080"}]
                      ports: [{containerPort: 8080}]
                      livenessProbe: {httpGet: {port: 8080}}
                """;
        var r = fix(pod, "-f", "-");
        assertEquals(0, r.exit(), r.err());
        JsonNode fixed = ManifestReader.parse("fixed", r.out()).get(0).raw();
        for (String k : List.of("a", "b", "c", "d", "e", "f")) {
            assertTrue(
                    fixed.at("/metadata/annotations/" + k).isTextual(),
                    k + " became " + fixed.at("/metadata/annotations/" + k));
        }
        assertEquals("8080", fixed.at("/spec/containers/0/env/0/value").asText());
        assertTrue(fixed.at("/spec/containers/0/env/0/value").isTextual());
        assertTrue(fixed.at("/spec/containers/0/ports/0/containerPort").isInt());
        var audit = cli(
                new ByteArrayInputStream(r.out().getBytes(StandardCharsets.UTF_8)), "audit", "-f", "-", "-o", "json");
        assertEquals(0, audit.exit(), audit.out() + audit.err());

        String json = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"j\"},"
                + " \"spec\": {\"containers\": [{\"name\": \"a\", \"image\": \"x\"}]}}\n";
        var j = fix(json, "-f", "-");
        assertTrue(j.out().trim().startsWith("{"), j.out());
        assertEquals(
                10000,
                JSON.readTree(j.out()).at("/spec/securityContext/runAsUser").asInt());
    }

    @Test
    void anchorsAndMergeKeysAreRefusedInsteadOfMisread() {
        String anchored = """
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                spec:
                  containers:
                    - &base {name: a, image: x, securityContext: {runAsUser: 0}}
                    - <<: *base
                      name: b
                """;
        var audit = cli(
                new ByteArrayInputStream(anchored.getBytes(StandardCharsets.UTF_8)), "audit", "-f", "-", "-o", "json");
        assertEquals(2, audit.exit(), audit.out());
        assertTrue(audit.out().contains("not supported"), audit.out());
        var fixed = fix(anchored, "-f", "-");
        assertEquals(2, fixed.exit());
        assertEquals(anchored, fixed.out(), "left unchanged");
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
        assertTrue(
                r.err()
                        .contains(
                                "Pod team-a/root would still be rejected: [run-as-root] spec.containers[0].securityContext.runAsUser"),
                r.err());
        assertTrue(r.err().contains("[privileged]"), r.err());
        assertTrue(r.out().contains("runAsUser: 0"), "a forbidden value the user set is not overridden");
        assertTrue(r.out().contains("fsGroup: 10000"), "absent fields are still filled");
    }

    @Test
    void fixChangesNothingWhenMutationIsTurnedOff() {
        var r = fix(BARE, "-f", "-", "-Drootguard.mutation.enabled=false");
        assertEquals(BARE, r.out(), "the webhook would not mutate, so fix does not either");
        assertEquals(1, r.exit(), "without defaults the objects are still rejected: " + r.err());
        assertTrue(r.err().contains("Deployment team-a/web would still be rejected: [run-as-root]"), r.err());
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
        assertEquals(
                "apiVersion: v1\nkind: Service\nmetadata: {name: s}   # odd spacing kept\n",
                Files.readString(untouched));
        var second = cli(new ByteArrayInputStream(new byte[0]), "fix", "-f", dir.toString(), "--in-place");
        assertEquals(0, second.exit());
        assertEquals(once, Files.readString(file), "fix is idempotent");
    }

    @Test
    void unreadableDocumentsAreLeftUnchangedAndReported() {
        String input = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [oops\n---\n"
                + BARE.substring(BARE.indexOf("apiVersion: apps/v1"));
        var r = fix(input, "-f", "-");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("- (document 0, line 1): left unchanged, cannot read it"), r.err());
        assertTrue(r.out().startsWith("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [oops\n---\n"), r.out());
        assertTrue(r.out().contains("runAsNonRoot: true"), "the other documents are still fixed");
    }

    /** Rewriting a document with content after its end marker would keep the part before the marker and lose the rest. */
    @Test
    void aDocumentWithContentAfterItsEndMarkerIsLeftUnchangedAndReported() {
        String input =
                "apiVersion: v1\nkind: Pod\nmetadata: {name: first}\nspec:\n  containers: [{name: a, image: x}]\n...\n"
                        + "apiVersion: v1\nkind: Pod\nmetadata: {name: second}\nspec:\n  containers: [{name: b, image: y}]\n";
        var r = fix(input, "-f", "-");
        assertEquals(2, r.exit(), r.err());
        assertTrue(
                r.err()
                        .contains(
                                "- (document 0, line 1): left unchanged, cannot read it: content after the document end marker"),
                r.err());
        assertEquals(input, r.out());
    }

    @Test
    void standardInputCannotBeRewrittenInPlace() {
        var r = fix(BARE, "-f", "-", "--in-place");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--in-place"));
    }
}
