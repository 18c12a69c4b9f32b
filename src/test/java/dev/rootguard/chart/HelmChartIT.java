package dev.rootguard.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.allocator.LeaderAllocator;
import dev.rootguard.allocator.RangeAllocator;
import dev.rootguard.config.CliConfig;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.Fixture;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.CapabilitiesRule;
import dev.rootguard.policy.rule.IdRangeRule;
import dev.rootguard.policy.rule.RequiredIdsRule;
import dev.rootguard.policy.rule.RuleRegistry;
import dev.rootguard.testing.Tools;
import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The chart, rendered with helm (built from the Go module proxy) and checked without a cluster. */
class HelmChartIT {

    private static Set<String> excluded(JsonNode webhookConfig) {
        Set<String> out = new TreeSet<>();
        webhookConfig
                .at("/webhooks/0/namespaceSelector/matchExpressions/0/values")
                .forEach(v -> out.add(v.asText()));
        return out;
    }

    private static PolicyConfig policyOf(Rendered r) throws Exception {
        Properties props = new Properties();
        props.load(new StringReader(
                r.one("ConfigMap").at("/data/application.properties").asText()));
        Map<String, String> map = new HashMap<>();
        props.forEach((k, v) -> map.put(k.toString(), v.toString()));
        return CliConfig.fromProperties(map, RuleRegistry.standard());
    }

    @Test
    void chartLints() {
        Tools.Result r = Tools.helm("lint", "charts/rootguard", "--strict").orFail();
        assertTrue(r.stdout().contains("0 chart(s) failed"), r.stdout());
    }

    @Test
    void defaultsGiveAHardenedHighlyAvailableWebhook() {
        Rendered r = Rendered.template();
        JsonNode deploy = r.one("Deployment");
        assertEquals(2, deploy.at("/spec/replicas").asInt());
        assertEquals(0, deploy.at("/spec/strategy/rollingUpdate/maxUnavailable").asInt());
        JsonNode pod = deploy.at("/spec/template/spec");
        assertEquals(
                "kubernetes.io/hostname",
                pod.at("/topologySpreadConstraints/0/topologyKey").asText());
        assertTrue(pod.at("/affinity/podAntiAffinity").isObject());
        JsonNode c = pod.at("/containers/0");
        assertEquals("/q/health/ready", c.at("/readinessProbe/httpGet/path").asText());
        assertEquals("management", c.at("/livenessProbe/httpGet/port").asText());
        assertTrue(c.at("/resources/limits/memory").isTextual()
                && c.at("/resources/requests/cpu").isTextual());
        assertEquals(true, c.at("/securityContext/readOnlyRootFilesystem").asBoolean());
        assertTrue(c.path("env").toString().contains("QUARKUS_SHUTDOWN_DELAY"));
        assertEquals(1, r.one("PodDisruptionBudget").at("/spec/minAvailable").asInt());

        JsonNode validating = r.one("ValidatingWebhookConfiguration").at("/webhooks/0");
        assertEquals("Fail", validating.path("failurePolicy").asText());
        assertEquals(5, validating.path("timeoutSeconds").asInt());
        assertEquals("None", validating.path("sideEffects").asText());
        assertEquals("Equivalent", validating.path("matchPolicy").asText());
        assertEquals("[\"v1\"]", validating.path("admissionReviewVersions").toString());
        assertTrue(validating.path("rules").toString().contains("pods/ephemeralcontainers"));
        JsonNode mutating = r.one("MutatingWebhookConfiguration").at("/webhooks/0");
        assertEquals("Ignore", mutating.path("failurePolicy").asText());
        assertEquals(3, mutating.path("timeoutSeconds").asInt());
        assertEquals("IfNeeded", mutating.path("reinvocationPolicy").asText());

        JsonNode role = r.one("ClusterRole");
        for (JsonNode rule : role.path("rules")) {
            for (JsonNode verb : rule.path("verbs")) {
                boolean allocatorWrite = verb.asText().equals("update")
                        && rule.path("resources").toString().equals("[\"namespaces\"]");
                assertTrue(
                        Set.of("get", "list", "watch").contains(verb.asText()) || allocatorWrite,
                        "read-only but for the allocator's namespace annotation: " + rule);
            }
        }
        assertTrue(role.path("rules").toString().contains("\"deployments\""), "the background audit is on by default");
        Rendered minimal = Rendered.template(
                "--set",
                "audit.interval=",
                "--set",
                "policy.namespaceLabels=false",
                "--set",
                "allocator.enabled=false");
        assertTrue(minimal.find("ClusterRole").isEmpty(), "no permissions when nothing needs them");
        assertTrue(allocatorRole(minimal).isEmpty());
        Rendered labelsOnly = Rendered.template("--set", "audit.interval=", "--set", "allocator.enabled=false");
        assertEquals(
                "[{\"apiGroups\":[\"\"],\"resources\":[\"namespaces\"],\"verbs\":[\"get\",\"list\",\"watch\"]}]",
                labelsOnly.one("ClusterRole").path("rules").toString(),
                "least privilege");
        for (JsonNode d : r.docs()) {
            assertEquals(
                    "rootguard",
                    d.at("/metadata/labels/app.kubernetes.io~1name").asText(),
                    d.path("kind").asText());
        }
    }

    private static Optional<JsonNode> allocatorRole(Rendered r) {
        return r.all("Role").stream()
                .filter(x -> x.at("/metadata/name").asText().equals("rootguard-allocator"))
                .findFirst();
    }

    @Test
    void theAllocatorIsOnWithOnlyItsLeaseItsRecordAndNamespaceUpdates() throws Exception {
        Rendered r = Rendered.template();
        PolicyConfig policy = policyOf(r);
        assertTrue(
                policy.settings(IdRangeRule.ID, IdRangeRule.Settings.class).rangeRequired(),
                "the allocator is on by default");
        String properties =
                r.one("ConfigMap").at("/data/application.properties").asText();
        assertTrue(properties.contains("rootguard.allocator.block=1000000000/1000000000\n"), properties);
        assertTrue(properties.contains("rootguard.allocator.range-size=10000\n"), properties);

        JsonNode role = allocatorRole(r).orElseThrow();
        assertEquals("rootguard", role.at("/metadata/namespace").asText(), "the release namespace only");
        assertEquals(
                "[{\"apiGroups\":[\"coordination.k8s.io\"],\"resources\":[\"leases\"],\"verbs\":[\"create\"]},"
                        + "{\"apiGroups\":[\"coordination.k8s.io\"],\"resources\":[\"leases\"],\"resourceNames\":[\"rootguard-allocator\"],"
                        + "\"verbs\":[\"get\",\"patch\"]},"
                        + "{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"verbs\":[\"create\"]},"
                        + "{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"resourceNames\":[\"rootguard-id-ranges\"],"
                        + "\"verbs\":[\"get\",\"update\"]}]",
                role.path("rules").toString(),
                "least privilege");
        assertTrue(
                r.all("RoleBinding").stream()
                        .anyMatch(b -> b.at("/roleRef/name").asText().equals("rootguard-allocator")
                                && b.at("/subjects/0/name").asText().equals("rootguard")),
                "bound to the webhook's ServiceAccount");
        assertEquals(
                List.of(LeaderAllocator.LEASE, RangeAllocator.RECORD),
                List.of(
                        role.at("/rules/1/resourceNames/0").asText(),
                        role.at("/rules/3/resourceNames/0").asText()),
                "the names the code uses");

        Rendered off = Rendered.template(
                "--set",
                "allocator.enabled=false",
                "--set",
                "allocator.block=5000/100",
                "--set",
                "allocator.rangeSize=10");
        assertTrue(allocatorRole(off).isEmpty());
        assertFalse(policyOf(off)
                .settings(IdRangeRule.ID, IdRangeRule.Settings.class)
                .rangeRequired());
        assertTrue(off.one("ConfigMap")
                .at("/data/application.properties")
                .asText()
                .contains("rootguard.allocator.range-size=10\n"));
    }

    @Test
    void theWebhooksOwnPodPassesItsOwnPolicy() throws Exception {
        Rendered r = Rendered.template();
        PolicyConfig policy = policyOf(r);
        var deployment = Fixture.typed(r.one("Deployment"));
        Engine.Review review = new Engine(RuleRegistry.standard())
                .review(deployment, new Engine.Context("team-a", "someone", NamespacePolicy.UNKNOWN), policy);
        assertEquals(Engine.Outcome.EVALUATED, review.outcome(), "evaluated as if it were in a non-exempt namespace");
        // The one finding left is image-groups' warning: the chart does not make its own pod Strict, so the
        // webhook still starts on nodes whose runtime lacks supplementalGroupsPolicy (its image adds no groups).
        assertEquals(
                List.of("image-groups warn"),
                review.violations().stream()
                        .map(v -> v.rule() + " " + v.action())
                        .toList());
    }

    @Test
    void releaseNamespaceAndKubeSystemAreNeverInterceptedAndExemptionsAreAdded() throws Exception {
        Rendered r = Rendered.template("--set", "policy.exemptions.namespaces={monitoring,kube-system}");
        Set<String> expected = Set.of("rootguard", "kube-system", "monitoring");
        assertEquals(expected, excluded(r.one("ValidatingWebhookConfiguration")));
        assertEquals(expected, excluded(r.one("MutatingWebhookConfiguration")));
        PolicyConfig policy = policyOf(r);
        assertTrue(policy.exemptions().namespaces().containsAll(Set.of("monitoring", "kube-system")));
        // Even with no exemptions configured, the release namespace and kube-system stay excluded.
        Rendered none = Rendered.template("--set", "policy.exemptions.namespaces=null", "--namespace", "security");
        assertEquals(Set.of("security", "kube-system"), excluded(none.one("ValidatingWebhookConfiguration")));
    }

    @Test
    void anEmptyCapabilityListInTheValuesIsAnEmptyAllowlist() throws Exception {
        assertEquals(
                Set.of(),
                policyOf(Rendered.template("--set-json", "policy.rules.capabilities.allowed=[]"))
                        .settings(CapabilitiesRule.ID, CapabilitiesRule.Settings.class)
                        .allowed());
        assertEquals(
                Set.of("NET_BIND_SERVICE"),
                policyOf(Rendered.template())
                        .settings(CapabilitiesRule.ID, CapabilitiesRule.Settings.class)
                        .allowed());
    }

    @Test
    void policyValuesReachTheWebhookConfiguration() throws Exception {
        PolicyConfig p = policyOf(Rendered.template(
                "--set",
                "policy.mode=warn",
                "--set",
                "policy.rules.privileged.action=audit",
                "--set",
                "policy.rules.capabilities.allowed={NET_BIND_SERVICE,NET_RAW}",
                "--set",
                "policy.rules.required-ids.run-as-user-range=10000-1999999999",
                "--set",
                "policy.exemptions.users={system:serviceaccount:ci:*}"));
        assertEquals("warn", p.mode().id());
        assertEquals("audit", p.rules().get("privileged").action().id());
        assertEquals(
                Set.of("NET_BIND_SERVICE", "NET_RAW"),
                p.settings(CapabilitiesRule.ID, CapabilitiesRule.Settings.class).allowed());
        assertEquals(
                "10000-1999999999",
                p.settings(RequiredIdsRule.ID, RequiredIdsRule.Settings.class)
                        .runAsUserRange()
                        .orElseThrow()
                        .toString());
        assertTrue(p.exemptions().reason("x", "system:serviceaccount:ci:deploy").isPresent());
    }

    @Test
    void generatedCertificateCoversTheServiceAndMatchesTheCaBundle() throws Exception {
        Rendered r = Rendered.template();
        JsonNode secret = r.one("Secret");
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        X509Certificate ca = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(
                Base64.getDecoder().decode(secret.at("/data/ca.crt").asText())));
        X509Certificate tls = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(
                Base64.getDecoder().decode(secret.at("/data/tls.crt").asText())));
        tls.verify(ca.getPublicKey());
        List<String> sans = new ArrayList<>();
        tls.getSubjectAlternativeNames().forEach(l -> sans.add(String.valueOf(l.get(1))));
        assertTrue(
                sans.containsAll(List.of("rootguard.rootguard.svc", "rootguard.rootguard.svc.cluster.local")),
                sans.toString());
        assertEquals(
                secret.at("/data/ca.crt").asText(),
                r.one("ValidatingWebhookConfiguration")
                        .at("/webhooks/0/clientConfig/caBundle")
                        .asText());
        assertEquals(
                secret.at("/data/ca.crt").asText(),
                r.one("MutatingWebhookConfiguration")
                        .at("/webhooks/0/clientConfig/caBundle")
                        .asText());
        assertEquals(
                "rootguard-tls",
                r.one("Deployment")
                        .at("/spec/template/spec/volumes/0/secret/secretName")
                        .asText());
    }

    @Test
    void certManagerModeRequestsACertificateAndInjectsTheCa() {
        Rendered r = Rendered.template("--set", "tls.mode=cert-manager");
        assertTrue(r.find("Secret").isEmpty(), "cert-manager writes the Secret");
        JsonNode cert = r.all("Certificate").stream()
                .filter(c -> c.at("/metadata/name").asText().equals("rootguard-tls"))
                .findFirst()
                .orElseThrow();
        assertEquals("rootguard-tls", cert.at("/spec/secretName").asText());
        assertEquals("PKCS8", cert.at("/spec/privateKey/encoding").asText());
        assertEquals(
                "rootguard/rootguard-tls",
                r.one("ValidatingWebhookConfiguration")
                        .at("/metadata/annotations/cert-manager.io~1inject-ca-from")
                        .asText());
        assertTrue(r.one("ValidatingWebhookConfiguration")
                .at("/webhooks/0/clientConfig/caBundle")
                .isMissingNode());

        Rendered external = Rendered.template(
                "--set",
                "tls.mode=cert-manager",
                "--set",
                "tls.certManager.issuerRef.name=corp-ca",
                "--set",
                "tls.certManager.issuerRef.kind=ClusterIssuer");
        assertTrue(external.find("Issuer").isEmpty());
        assertEquals(
                "corp-ca",
                external.one("Certificate").at("/spec/issuerRef/name").asText());
    }

    @Test
    void secretModeUsesTheUsersSecretAndCaBundle() {
        Rendered r = Rendered.template(
                "--set", "tls.mode=secret", "--set", "tls.secret.name=my-tls", "--set", "tls.secret.caBundle=Q0E=");
        assertTrue(r.find("Secret").isEmpty());
        assertEquals(
                "my-tls",
                r.one("Deployment")
                        .at("/spec/template/spec/volumes/0/secret/secretName")
                        .asText());
        assertEquals(
                "Q0E=",
                r.one("ValidatingWebhookConfiguration")
                        .at("/webhooks/0/clientConfig/caBundle")
                        .asText());
    }

    @Test
    void mutualTlsMountsTheClientCaAndTellsTheWebhook() {
        JsonNode off = Rendered.template().one("Deployment").at("/spec/template/spec");
        assertFalse(off.toString().contains("ROOTGUARD_TLS_CLIENT_CA"), "off by default");
        assertFalse(off.toString().contains("client-ca"), "off by default");

        JsonNode pod = Rendered.template(
                        "--set", "tls.clientCA.configMap=apiserver-ca", "--set", "tls.clientCA.key=ca.pem")
                .one("Deployment")
                .at("/spec/template/spec");
        JsonNode container = pod.at("/containers/0");
        String path = null;
        for (JsonNode e : container.get("env")) {
            if (e.get("name").asText().equals("ROOTGUARD_TLS_CLIENT_CA")) {
                path = e.get("value").asText();
            }
        }
        assertEquals("/etc/rootguard/client-ca/ca.pem", path);
        boolean mounted = false;
        for (JsonNode m : container.get("volumeMounts")) {
            mounted |= m.get("name").asText().equals("client-ca")
                    && m.get("mountPath").asText().equals("/etc/rootguard/client-ca");
        }
        assertTrue(mounted, container.toString());
        boolean volume = false;
        for (JsonNode v : pod.get("volumes")) {
            volume |= v.get("name").asText().equals("client-ca")
                    && v.at("/configMap/name").asText().equals("apiserver-ca");
        }
        assertTrue(volume, pod.get("volumes").toString());
    }

    @Test
    void highAvailabilityCanBeTurnedOff() {
        Rendered r = Rendered.template("--set", "replicaCount=1", "--set", "topologySpread.enabled=false");
        assertEquals(1, r.one("Deployment").at("/spec/replicas").asInt());
        assertTrue(r.find("PodDisruptionBudget").isEmpty(), "a PDB with one replica would block node drains");
        assertTrue(r.one("Deployment")
                .at("/spec/template/spec/topologySpreadConstraints")
                .isMissingNode());
    }

    static Stream<Arguments> invalidValues() {
        return Stream.of(
                Arguments.of("policy.mode=block", "/policy/mode"),
                Arguments.of("policy.rules.privileged.action=deny", "/policy/rules/privileged/action"),
                Arguments.of("policy.rules.no-such-rule.action=warn", "no-such-rule"),
                Arguments.of("tls.mode=secret", "/tls/secret/name"),
                Arguments.of("tls.mode=vault", "/tls/mode"),
                Arguments.of("replicaCount=0", "/replicaCount"),
                Arguments.of("policy.defaults.run-as-user=0", "/policy/defaults/run-as-user"),
                Arguments.of("webhook.validating.timeoutSeconds=60", "/webhook/validating/timeoutSeconds"),
                Arguments.of("webhook.validating.failurePolicy=Maybe", "/webhook/validating/failurePolicy"),
                Arguments.of(
                        "policy.rules.required-ids.run-as-user-range=lots",
                        "/policy/rules/required-ids/run-as-user-range"),
                Arguments.of("tls.clientCA.secret=x", "/tls/clientCA"),
                Arguments.of("allocator.block=1000000000-1999999999", "/allocator/block"),
                Arguments.of("allocator.rangeSize=0", "/allocator/rangeSize"),
                Arguments.of(
                        "policy.rules.id-range.exempt-host-users=maybe", "/policy/rules/id-range/exempt-host-users"),
                Arguments.of("policy.namespaceLabels=false", "/policy/namespaceLabels"),
                Arguments.of("unknownTopLevel=1", "unknownTopLevel"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidValues")
    void schemaRejectsInvalidValues(String set, String where) {
        Tools.Result r = Tools.helm("template", "rootguard", "charts/rootguard", "--set", set);
        assertNotEquals(0, r.exitCode(), set + " was accepted");
        assertTrue(r.stderr().contains("schema") && r.stderr().contains(where), r.stderr());
    }

    @Test
    void deployDirectoryMatchesTheChart() throws Exception {
        Rendered committed = Rendered.parse(Files.readString(Path.of("deploy/rootguard.yaml")));
        Tools.Result fresh =
                Tools.run(List.of("bash", "deploy/render.sh", "-"), null).orFail();
        assertEquals(
                Rendered.parse(fresh.stdout()).normalized(),
                committed.normalized(),
                "deploy/rootguard.yaml is out of date: run bash deploy/render.sh");
        assertEquals("Namespace", committed.docs().get(0).path("kind").asText());
        assertFalse(
                committed.docs().stream()
                        .anyMatch(
                                d -> d.at("/metadata/annotations/helm.sh~1hook").isTextual()),
                "test hooks do not belong in deploy/");
    }
}
