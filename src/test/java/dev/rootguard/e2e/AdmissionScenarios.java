package dev.rootguard.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rootguard.policy.WorkloadKind;
import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.WebhookProcess;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.CronJobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The end-to-end scenarios, run against each kind of cluster by a subclass: the packaged webhook
 * runs as its own process on HTTPS with a certificate from {@code certs/generate.sh}, registered
 * through Mutating- and ValidatingWebhookConfigurations with {@code clientConfig.url} and
 * {@code caBundle}. Everything below goes through the fabric8 client or kubectl, as users do.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AdmissionScenarios {

    /** What a scenario needs from a cluster. */
    interface Cluster extends AutoCloseable {
        KubernetesClient client();

        /** A kubeconfig file for the webhook process and kubectl. */
        Path kubeconfigFile();

        /** The host name under which the cluster's API server reaches the webhook on this machine. */
        String webhookHost();

        /** Called after a test namespace is created, before pods go into it. */
        default void namespaceCreated(String namespace) throws Exception {}

        /** The API server's audit log lines. */
        List<String> auditLog() throws Exception;

        @Override
        default void close() {}
    }

    /** Starts (or joins) the cluster; the webhook will listen on {@code webhookPort} on this machine. */
    abstract Cluster startCluster(int webhookPort) throws Exception;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NS = "e2e-apps";
    private static final String NS_NO_MUTATE = "e2e-nomutate";
    private static final String NS_WARN = "e2e-warn";
    private static final String NS_AUDIT = "e2e-audit";
    private static final String OWN_NS = "rootguard";

    private static KubernetesClient client;
    private static WebhookProcess webhook;
    private static Cluster cluster;

    @BeforeAll
    void setUp() throws Exception {
        Path certDir = Path.of("target", "e2e", "certs").toAbsolutePath();
        String caBundle = run(List.of("bash", "certs/generate.sh", "--out", certDir.toString()))
                .trim();
        Path kubeconfigPlaceholder = Path.of("target", "e2e", "kubeconfig").toAbsolutePath();
        webhook = new WebhookProcess(
                certDir.resolve("tls.crt"),
                certDir.resolve("tls.key"),
                kubeconfigPlaceholder,
                Map.of("rootguard.namespace", OWN_NS));
        cluster = startCluster(webhook.port());
        client = cluster.client();

        namespace(NS, Map.of());
        namespace(NS_NO_MUTATE, Map.of("rootguard.dev/mutate", "false"));
        namespace(NS_WARN, Map.of("rootguard.dev/mode", "warn"));
        namespace(NS_AUDIT, Map.of("rootguard.dev/mode", "audit"));
        namespace(OWN_NS, Map.of());
        for (String ns : List.of(NS, NS_NO_MUTATE, NS_WARN, NS_AUDIT, OWN_NS, "kube-system")) {
            cluster.namespaceCreated(ns);
        }

        webhook.kubeconfig(cluster.kubeconfigFile()).start();
        String url = "https://" + cluster.webhookHost() + ":" + webhook.port();
        List<String> excluded = List.of("kube-system", OWN_NS);
        client.resource(Webhooks.mutating(url, caBundle, excluded)).serverSideApply();
        client.resource(Webhooks.validating(url, caBundle, excluded)).serverSideApply();

        // The API server picks up webhook configurations asynchronously, and the webhook's namespace
        // cache syncs asynchronously: wait until both are visibly in effect.
        await("the validating webhook is active")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> denied(() -> create(NS, rootPod("probe")).toString()));
        await("the namespace labels are in effect")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    try {
                        client.pods()
                                .inNamespace(NS_WARN)
                                .resource(rootPod("probe"))
                                .dryRun()
                                .create();
                        return true;
                    } catch (KubernetesClientException e) {
                        return false;
                    }
                });
    }

    @AfterAll
    void tearDown() {
        if (client != null) {
            client.admissionRegistration()
                    .v1()
                    .validatingWebhookConfigurations()
                    .withName("rootguard")
                    .delete();
            client.admissionRegistration()
                    .v1()
                    .mutatingWebhookConfigurations()
                    .withName("rootguard")
                    .delete();
            client.close();
        }
        if (webhook != null) {
            webhook.stop();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void namespace(String name, Map<String, String> labels) {
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .withLabels(labels)
                        .endMetadata()
                        .build())
                .serverSideApply();
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(command + " failed: " + out);
        }
        return out;
    }

    private static boolean denied(Supplier<String> action) {
        try {
            action.get();
            return false;
        } catch (KubernetesClientException e) {
            return e.getCode() == 403 && e.getMessage().contains("rootguard denied");
        }
    }

    private static PodSpec spec(Function<PodSpecBuilder, PodSpecBuilder> customize) {
        return customize
                .apply(new PodSpecBuilder()
                        .addNewContainer()
                        .withName("app")
                        .withImage("registry.example/app:1")
                        .endContainer())
                .build();
    }

    private static Pod pod(String name, PodSpec spec) {
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withSpec(spec)
                .build();
    }

    private static Pod rootPod(String name) {
        return pod(
                name,
                spec(s -> s.editFirstContainer()
                        .withNewSecurityContext()
                        .withRunAsUser(0L)
                        .endSecurityContext()
                        .endContainer()));
    }

    private static Pod create(String ns, Pod pod) {
        return client.pods().inNamespace(ns).resource(pod).create();
    }

    private static KubernetesClientException rejection(Runnable create) {
        KubernetesClientException e = assertThrows(KubernetesClientException.class, create::run);
        assertEquals(403, e.getCode(), e.getMessage());
        return e;
    }

    private static PodTemplateSpec template(PodSpec spec) {
        return new PodTemplateSpecBuilder()
                .withNewMetadata()
                .addToLabels("app", "x")
                .endMetadata()
                .withSpec(spec)
                .build();
    }

    // ---------------------------------------------------------------- scenarios

    @Test
    void podWithoutSecurityContextIsStoredWithDefaultsAndRejectedWhereMutationIsOff() {
        Pod stored = create(NS, pod("bare", spec(s -> s)));
        var psc = stored.getSpec().getSecurityContext();
        assertEquals(Boolean.TRUE, psc.getRunAsNonRoot());
        assertEquals(10000L, psc.getRunAsUser());
        assertEquals(10000L, psc.getRunAsGroup());
        assertEquals(10000L, psc.getFsGroup());
        assertEquals("RuntimeDefault", psc.getSeccompProfile().getType());
        var sc = stored.getSpec().getContainers().get(0).getSecurityContext();
        assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), sc.getCapabilities().getDrop());

        KubernetesClientException e = rejection(() -> create(NS_NO_MUTATE, pod("bare", spec(s -> s))));
        assertTrue(e.getMessage().contains("[required-ids] spec.securityContext.runAsGroup"), e.getMessage());
        assertTrue(
                e.getMessage().contains("admission webhook \"" + Webhooks.VALIDATING_NAME + "\" denied the request"),
                e.getMessage());
    }

    @Test
    void eachForbiddenSettingIsRejectedNamingRuleAndPath() {
        Map<String, Pod> cases = Map.of(
                "[run-as-root] spec.containers[0].securityContext.runAsUser", rootPod("root"),
                "[privileged] spec.containers[0].securityContext.privileged",
                        pod(
                                "priv",
                                spec(s -> s.editFirstContainer()
                                        .withNewSecurityContext()
                                        .withPrivileged(true)
                                        .endSecurityContext()
                                        .endContainer())),
                "[capabilities] spec.containers[0].securityContext.capabilities.add[0]",
                        pod(
                                "caps",
                                spec(s -> s.editFirstContainer()
                                        .withNewSecurityContext()
                                        .withNewCapabilities()
                                        .addToAdd("SYS_ADMIN")
                                        .endCapabilities()
                                        .endSecurityContext()
                                        .endContainer())),
                "[required-ids] spec.securityContext.fsGroup",
                        pod(
                                "ids",
                                spec(s -> s.withNewSecurityContext()
                                        .withRunAsUser(1000L)
                                        .withRunAsGroup(1000L)
                                        .endSecurityContext())));
        cases.forEach((expected, pod) -> {
            // Mutation fills absent IDs, so the missing-ID case goes to the namespace without mutation.
            String ns = expected.startsWith("[required-ids]") ? NS_NO_MUTATE : NS;
            KubernetesClientException e = rejection(() -> create(ns, pod));
            assertTrue(e.getMessage().contains(expected), () -> "expected " + expected + " in " + e.getMessage());
            assertEquals("Forbidden", e.getStatus().getReason());
        });
    }

    @Test
    void workloadsWithRootTemplatesAreRejectedAtCreateAndCompliantOnesGetTemplateDefaults() {
        PodSpec root = spec(s -> s.editFirstContainer()
                .withNewSecurityContext()
                .withRunAsUser(0L)
                .endSecurityContext()
                .endContainer());
        PodSpec fine = spec(s -> s);
        PodSpec rootJob = spec(s -> s.withRestartPolicy("Never")
                .editFirstContainer()
                .withNewSecurityContext()
                .withRunAsUser(0L)
                .endSecurityContext()
                .endContainer());
        PodSpec fineJob = spec(s -> s.withRestartPolicy("Never"));
        Map<String, Function<Boolean, HasMetadata>> kinds = Map.of(
                "Deployment",
                        bad -> new DeploymentBuilder()
                                .withNewMetadata()
                                .withName("d")
                                .endMetadata()
                                .withNewSpec()
                                .withNewSelector()
                                .addToMatchLabels("app", "x")
                                .endSelector()
                                .withTemplate(template(bad ? root : fine))
                                .endSpec()
                                .build(),
                "StatefulSet",
                        bad -> new StatefulSetBuilder()
                                .withNewMetadata()
                                .withName("s")
                                .endMetadata()
                                .withNewSpec()
                                .withServiceName("s")
                                .withNewSelector()
                                .addToMatchLabels("app", "x")
                                .endSelector()
                                .withTemplate(template(bad ? root : fine))
                                .endSpec()
                                .build(),
                "DaemonSet",
                        bad -> new DaemonSetBuilder()
                                .withNewMetadata()
                                .withName("ds")
                                .endMetadata()
                                .withNewSpec()
                                .withNewSelector()
                                .addToMatchLabels("app", "x")
                                .endSelector()
                                .withTemplate(template(bad ? root : fine))
                                .endSpec()
                                .build(),
                "Job",
                        bad -> new JobBuilder()
                                .withNewMetadata()
                                .withName("j")
                                .endMetadata()
                                .withNewSpec()
                                .withTemplate(template(bad ? rootJob : fineJob))
                                .endSpec()
                                .build(),
                "CronJob",
                        bad -> new CronJobBuilder()
                                .withNewMetadata()
                                .withName("cj")
                                .endMetadata()
                                .withNewSpec()
                                .withSchedule("*/5 * * * *")
                                .withNewJobTemplate()
                                .withNewSpec()
                                .withTemplate(template(bad ? rootJob : fineJob))
                                .endSpec()
                                .endJobTemplate()
                                .endSpec()
                                .build());
        kinds.forEach((kind, build) -> {
            String prefix = WorkloadKind.of(build.apply(false)).orElseThrow().podSpecPath();
            KubernetesClientException e = rejection(
                    () -> client.resource(build.apply(true)).inNamespace(NS).create());
            assertTrue(
                    e.getMessage().contains("[run-as-root] " + prefix + ".containers[0].securityContext.runAsUser"),
                    () -> kind + ": " + e.getMessage());
            HasMetadata stored =
                    client.resource(build.apply(false)).inNamespace(NS).create();
            JsonNode podSpec = JSON.valueToTree(stored).at("/" + prefix.replace('.', '/'));
            assertEquals(
                    10000,
                    podSpec.at("/securityContext/runAsUser").asInt(),
                    () -> kind + " template not defaulted: " + podSpec);
            assertEquals(
                    "ALL",
                    podSpec.at("/containers/0/securityContext/capabilities/drop/0")
                            .asText(),
                    kind);
        });
    }

    @Test
    void dryRunReachesTheWebhookGetsTheSameDecisionAndPersistsNothing() {
        KubernetesClientException e = rejection(() -> client.pods()
                .inNamespace(NS)
                .resource(rootPod("dry-root"))
                .dryRun()
                .create());
        assertTrue(e.getMessage().contains("[run-as-root]"), e.getMessage());

        Pod returned = client.pods()
                .inNamespace(NS)
                .resource(pod("dry-ok", spec(s -> s)))
                .dryRun()
                .create();
        assertEquals(10000L, returned.getSpec().getSecurityContext().getRunAsUser(), "the dry run was mutated");
        assertNull(client.pods().inNamespace(NS).withName("dry-ok").get(), "a dry run persists nothing");
        assertNull(client.pods().inNamespace(NS).withName("dry-root").get());
    }

    @Test
    void warnNamespaceAdmitsWithWarningsThatKubectlPrints() throws Exception {
        Path kubectl = ControlPlane.cacheDir()
                .resolve("k8s")
                .resolve(ControlPlane.version() + "-linux-amd64")
                .resolve("kubectl");
        Process p = new ProcessBuilder(
                        kubectl.toString(),
                        "--kubeconfig",
                        cluster.kubeconfigFile().toString(),
                        "-n",
                        NS_WARN,
                        "create",
                        "-f",
                        "-")
                .start();
        p.getOutputStream().write(Serialization.asYaml(rootPod("warned")).getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), stderr);
        assertTrue(stdout.contains("pod/warned created"), stdout);
        assertTrue(stderr.contains("Warning: [run-as-root] spec.containers[0].securityContext.runAsUser"), stderr);
        assertNotNull(client.pods().inNamespace(NS_WARN).withName("warned").get());
    }

    @Test
    void auditNamespaceAdmitsAndTheApiServerAuditLogCarriesTheAnnotations() {
        create(NS_AUDIT, rootPod("audited"));
        List<JsonNode> events = new ArrayList<>();
        await("the audit event is written")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    events.clear();
                    try {
                        for (String line : cluster.auditLog()) {
                            JsonNode ev = JSON.readTree(line);
                            if ("create".equals(ev.path("verb").asText())
                                    && "audited".equals(ev.at("/objectRef/name").asText())
                                    && NS_AUDIT.equals(
                                            ev.at("/objectRef/namespace").asText())
                                    && ev.has("annotations")) {
                                events.add(ev);
                            }
                        }
                    } catch (Exception ex) {
                        return false;
                    }
                    return !events.isEmpty();
                });
        JsonNode annotations = events.get(0).path("annotations");
        assertEquals(
                "audit", annotations.path(Webhooks.VALIDATING_NAME + "/mode").asText(), annotations.toString());
        assertTrue(
                annotations
                        .path(Webhooks.VALIDATING_NAME + "/violations")
                        .asText()
                        .contains("run-as-root(audit) spec.containers[0].securityContext.runAsUser"),
                annotations.toString());
    }

    @Test
    void explicitUserValuesAreNeverOverridden() {
        Pod stored = create(
                NS,
                pod(
                        "explicit",
                        spec(s -> s.withNewSecurityContext()
                                .withRunAsUser(2000L)
                                .endSecurityContext()
                                .editFirstContainer()
                                .withNewSecurityContext()
                                .withAllowPrivilegeEscalation(false)
                                .withNewCapabilities()
                                .addToDrop("NET_RAW")
                                .endCapabilities()
                                .endSecurityContext()
                                .endContainer())));
        assertEquals(2000L, stored.getSpec().getSecurityContext().getRunAsUser());
        assertEquals(10000L, stored.getSpec().getSecurityContext().getRunAsGroup());
        assertEquals(
                List.of("NET_RAW"),
                stored.getSpec()
                        .getContainers()
                        .get(0)
                        .getSecurityContext()
                        .getCapabilities()
                        .getDrop());
    }

    @Test
    void ephemeralContainersAddedThroughTheSubresourceAreChecked() {
        create(NS, pod("debug-me", spec(s -> s)));
        KubernetesClientException e = rejection(() -> client.pods()
                .inNamespace(NS)
                .withName("debug-me")
                .ephemeralContainers()
                .edit(p -> new PodBuilder(p)
                        .editSpec()
                        .addToEphemeralContainers(new EphemeralContainerBuilder()
                                .withName("dbg")
                                .withImage("busybox")
                                .withNewSecurityContext()
                                .withRunAsUser(0L)
                                .endSecurityContext()
                                .build())
                        .endSpec()
                        .build()));
        assertTrue(
                e.getMessage().contains("[run-as-root] spec.ephemeralContainers[0].securityContext.runAsUser"),
                e.getMessage());

        Pod debugged = client.pods()
                .inNamespace(NS)
                .withName("debug-me")
                .ephemeralContainers()
                .edit(p -> new PodBuilder(p)
                        .editSpec()
                        .addToEphemeralContainers(new EphemeralContainerBuilder()
                                .withName("dbg")
                                .withImage("busybox")
                                .withNewSecurityContext()
                                .withAllowPrivilegeEscalation(false)
                                .endSecurityContext()
                                .build())
                        .endSpec()
                        .build());
        assertEquals(1, debugged.getSpec().getEphemeralContainers().size());
    }

    /** Runs last by name order within the class is not guaranteed, so it restores the webhook itself. */
    @Test
    void withTheWebhookDownEnforcedNamespacesFailClosedWhileKubeSystemWorks() {
        webhook.stop();
        try {
            KubernetesClientException e =
                    assertThrows(KubernetesClientException.class, () -> create(NS, pod("while-down", spec(s -> s))));
            assertTrue(
                    e.getMessage().contains("failed calling webhook \"" + Webhooks.VALIDATING_NAME + "\""),
                    e.getMessage());
            assertNull(client.pods().inNamespace(NS).withName("while-down").get());
            assertNotNull(
                    create("kube-system", rootPod("system-pod-" + System.nanoTime())), "kube-system must keep working");
            assertNotNull(
                    create(OWN_NS, pod("own-" + System.nanoTime(), spec(s -> s))),
                    "the webhook's namespace must keep working");
        } finally {
            webhook.start();
        }
        Pod after = create(NS, pod("after-restart", spec(s -> s)));
        assertEquals(10000L, after.getSpec().getSecurityContext().getRunAsUser());
        assertFalse(webhook.management("/q/metrics").isEmpty());
    }
}
