package dev.rootguard.audit;

import static dev.rootguard.audit.AuditGoldenTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.testing.ControlPlane;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code rootguard audit --cluster} against a real kube-apiserver with objects in several namespaces and modes. */
@ExtendWith(ControlPlane.class)
class ClusterAuditIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PodSpec rootSpec() {
        return new PodSpecBuilder()
                .addNewContainer()
                .withName("app")
                .withImage("registry.example/app:1")
                .withNewSecurityContext()
                .withRunAsUser(0L)
                .endSecurityContext()
                .endContainer()
                .build();
    }

    @BeforeAll
    static void objects() {
        try (KubernetesClient client = ControlPlane.get().client()) {
            for (var ns : Map.of(
                            "audit-enforce",
                            Map.<String, String>of(),
                            "audit-warn",
                            Map.of("rootguard.dev/mode", "warn"),
                            "audit-many",
                            Map.<String, String>of())
                    .entrySet()) {
                client.namespaces()
                        .resource(new NamespaceBuilder()
                                .withNewMetadata()
                                .withName(ns.getKey())
                                .withLabels(ns.getValue())
                                .endMetadata()
                                .build())
                        .serverSideApply();
            }
            // A Deployment, its ReplicaSet and the ReplicaSet's pod: reported once, at the Deployment.
            Deployment d = client.apps()
                    .deployments()
                    .inNamespace("audit-enforce")
                    .resource(new DeploymentBuilder()
                            .withNewMetadata()
                            .withName("api")
                            .endMetadata()
                            .withNewSpec()
                            .withNewSelector()
                            .addToMatchLabels("app", "api")
                            .endSelector()
                            .withTemplate(new PodTemplateSpecBuilder()
                                    .withNewMetadata()
                                    .addToLabels("app", "api")
                                    .endMetadata()
                                    .withSpec(rootSpec())
                                    .build())
                            .endSpec()
                            .build())
                    .create();
            ReplicaSet rs = client.apps()
                    .replicaSets()
                    .inNamespace("audit-enforce")
                    .resource(new ReplicaSetBuilder()
                            .withNewMetadata()
                            .withName("api-1")
                            .withOwnerReferences(owner(d))
                            .endMetadata()
                            .withNewSpec()
                            .withNewSelector()
                            .addToMatchLabels("app", "api")
                            .endSelector()
                            .withTemplate(new PodTemplateSpecBuilder()
                                    .withNewMetadata()
                                    .addToLabels("app", "api")
                                    .endMetadata()
                                    .withSpec(rootSpec())
                                    .build())
                            .endSpec()
                            .build())
                    .create();
            client.pods()
                    .inNamespace("audit-enforce")
                    .resource(new PodBuilder()
                            .withNewMetadata()
                            .withName("api-1-x")
                            .withOwnerReferences(owner(rs))
                            .endMetadata()
                            .withSpec(rootSpec())
                            .build())
                    .create();
            client.pods()
                    .inNamespace("audit-enforce")
                    .resource(new PodBuilder()
                            .withNewMetadata()
                            .withName("standalone")
                            .endMetadata()
                            .withSpec(rootSpec())
                            .build())
                    .create();
            client.pods()
                    .inNamespace("audit-warn")
                    .resource(new PodBuilder()
                            .withNewMetadata()
                            .withName("legacy")
                            .endMetadata()
                            .withSpec(rootSpec())
                            .build())
                    .create();
            client.pods()
                    .inNamespace("kube-system")
                    .resource(new PodBuilder()
                            .withNewMetadata()
                            .withName("system-agent")
                            .endMetadata()
                            .withSpec(rootSpec())
                            .build())
                    .createOr(existing -> existing.update());
            // More objects than one page (500) holds, to prove paging.
            List<HasMetadata> many = new ArrayList<>();
            for (int i = 0; i < 520; i++) {
                many.add(client.pods()
                        .inNamespace("audit-many")
                        .resource(new PodBuilder()
                                .withNewMetadata()
                                .withName("p" + i)
                                .endMetadata()
                                .withSpec(rootSpec())
                                .build())
                        .create());
            }
        }
    }

    private static OwnerReference owner(HasMetadata o) {
        return new OwnerReferenceBuilder()
                .withApiVersion(o.getApiVersion())
                .withKind(o.getKind())
                .withName(o.getMetadata().getName())
                .withUid(o.getMetadata().getUid())
                .withController(true)
                .build();
    }

    private static JsonNode audit(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "audit",
                "--cluster",
                "--kubeconfig",
                ControlPlane.get().kubeconfigFile().toString(),
                "-o",
                "json"));
        args.addAll(List.of(extra));
        var run = cli(new ByteArrayInputStream(new byte[0]), args.toArray(String[]::new));
        JsonNode report = JSON.readTree(run.out());
        ((ObjectNode) report).put("exit", run.exit());
        return report;
    }

    private static List<JsonNode> in(JsonNode report, String ns) {
        List<JsonNode> out = new ArrayList<>();
        report.path("results").forEach(r -> {
            if (ns.equals(r.path("namespace").asText())) {
                out.add(r);
            }
        });
        return out;
    }

    @Test
    void ownedObjectsAreReportedOnceAtTheirOwnerWithTheNamespacesMode() throws Exception {
        JsonNode report = audit("-n", "audit-enforce");
        assertEquals(1, report.path("exit").asInt());
        List<String> names = in(report, "audit-enforce").stream()
                .map(r -> r.path("kind").asText() + "/" + r.path("name").asText())
                .toList();
        assertEquals(List.of("Deployment/api", "Pod/standalone"), names);
        JsonNode deployment = in(report, "audit-enforce").get(0);
        assertEquals("enforce", deployment.at("/violations/0/action").asText());
        assertEquals(
                "spec.template.spec.containers[0].securityContext.runAsUser",
                deployment.at("/violations/0/path").asText());
        assertTrue(deployment.at("/source/cluster").isTextual());
        assertTrue(deployment.at("/violations/0/line").isMissingNode(), "live objects have no line");
    }

    @Test
    void namespaceLabelsSetTheModeAndExemptNamespacesAreSkippedAcrossAllNamespaces() throws Exception {
        JsonNode report = audit("-A");
        JsonNode legacy = in(report, "audit-warn").get(0);
        assertEquals("warn", legacy.at("/violations/0/action").asText(), "rootguard.dev/mode=warn on the namespace");
        assertEquals(520, in(report, "audit-many").size(), "every page was read");
        List<JsonNode> system = in(report, "kube-system");
        assertTrue(system.stream().anyMatch(r -> r.path("name").asText().equals("system-agent")));
        system.forEach(r -> assertEquals("exempt", r.path("status").asText(), r.toString()));
        JsonNode overridden = audit("-n", "audit-warn", "--namespace-mode", "audit-warn=audit");
        assertEquals(
                "audit",
                in(overridden, "audit-warn").get(0).at("/violations/0/action").asText());
        assertEquals(0, overridden.path("exit").asInt());
    }

    @Test
    void unreachableClusterIsAnInputError() {
        var run =
                cli(new ByteArrayInputStream(new byte[0]), "audit", "--cluster", "--kubeconfig", "no/such/kubeconfig");
        assertEquals(2, run.exit());
        assertTrue(run.err().contains("kubeconfig"), run.err());
    }
}
