package dev.rootguard.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.Tools;
import dev.rootguard.testing.WebhookProcess;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rule {@code image-groups} and the {@code supplementalGroupsPolicy: Strict} default against real
 * API servers: one that knows the field (1.35 and later: the feature gate {@code SupplementalGroupsPolicy}
 * is GA and locked on) and one that drops the field before validating webhooks see the object, as a
 * 1.34 cluster with the gate off does. The gate can only be turned off where it is not locked, so that
 * one runs as 1.34 ({@code --emulated-version=1.34}, which 1.35 to 1.37 support) with the gate off. On the first, mutation makes new pods Strict and validation is quiet; on the second,
 * pods are still admitted (the default action is {@code warn}, so rootguard never refuses every pod
 * there), with the warning saying why.
 */
class SupplementalGroupsPolicyIT {
    private static final Path DIR =
            Path.of("target", "e2e", "supplemental-groups").toAbsolutePath();
    private static final String NS = "tenant";
    private static String caBundle;

    @BeforeAll
    static void certificates() throws Exception {
        Files.createDirectories(DIR);
        Process p = new ProcessBuilder("bash", "certs/generate.sh", "--out", DIR.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        caBundle = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), "certs/generate.sh");
    }

    @Test
    void whereTheApiServerKnowsTheFieldNewPodsAreMadeStrictAndAnExplicitMergeIsWarned() throws Exception {
        try (WebhookProcess webhook = webhook();
                ControlPlane.Handle apiserver = ControlPlane.startDedicated("groups-on", Map.of());
                KubernetesClient client = apiserver.client()) {
            register(client, webhook.port());

            Tools.Result bare = kubectlCreate(apiserver, pod("bare", null));
            assertEquals(0, bare.exitCode(), bare.stderr());
            assertFalse(bare.stderr().contains("[image-groups]"), bare.stderr());
            assertEquals(
                    "Strict",
                    client.pods()
                            .inNamespace(NS)
                            .withName("bare")
                            .get()
                            .getSpec()
                            .getSecurityContext()
                            .getSupplementalGroupsPolicy(),
                    "mutation filled in Strict and the API server kept it");

            Tools.Result merge = kubectlCreate(apiserver, pod("merge", "Merge"));
            assertEquals(0, merge.exitCode(), "warn by default: " + merge.stderr());
            assertTrue(
                    merge.stderr()
                            .contains("Warning: [image-groups] spec.securityContext.supplementalGroupsPolicy:"
                                    + " supplementalGroupsPolicy: Merge"),
                    merge.stderr());
            assertEquals(
                    "Merge",
                    client.pods()
                            .inNamespace(NS)
                            .withName("merge")
                            .get()
                            .getSpec()
                            .getSecurityContext()
                            .getSupplementalGroupsPolicy(),
                    "a value the user set is never overridden");
        }
    }

    @Test
    void whereTheApiServerDropsTheFieldPodsAreStillAdmittedWithAWarning() throws Exception {
        try (WebhookProcess webhook = webhook();
                ControlPlane.Handle apiserver = ControlPlane.startDedicated(
                        "groups-off",
                        Map.of("--emulated-version", "1.34", "--feature-gates", "SupplementalGroupsPolicy=false"));
                KubernetesClient client = apiserver.client()) {
            register(client, webhook.port());

            Tools.Result bare = kubectlCreate(apiserver, pod("bare", null));
            assertEquals(
                    0, bare.exitCode(), "a server without the field must not have every pod refused: " + bare.stderr());
            assertTrue(
                    bare.stderr()
                            .contains("Warning: [image-groups] spec.securityContext.supplementalGroupsPolicy:"
                                    + " supplementalGroupsPolicy is not set"),
                    bare.stderr());
            Pod stored = client.pods().inNamespace(NS).withName("bare").get();
            assertNull(
                    stored.getSpec().getSecurityContext().getSupplementalGroupsPolicy(),
                    "the API server dropped the Strict that mutation added");
            assertEquals(
                    10000L, stored.getSpec().getSecurityContext().getRunAsUser(), "the other defaults were applied");
        }
    }

    private static WebhookProcess webhook() {
        return new WebhookProcess(
                        DIR.resolve("tls.crt"),
                        DIR.resolve("tls.key"),
                        DIR.resolve("unused-kubeconfig"),
                        Map.of("rootguard.namespace-labels.enabled", "false"))
                .start();
    }

    /** Registers both webhooks and waits until the API server applies them: a root pod is denied, a bare one defaulted. */
    private static void register(KubernetesClient client, int port) throws InterruptedException {
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(NS)
                        .endMetadata()
                        .build())
                .create();
        String url = "https://127.0.0.1:" + port;
        client.resource(Webhooks.mutating(url, caBundle, List.of("kube-system")))
                .serverSideApply();
        client.resource(Webhooks.validating(url, caBundle, List.of("kube-system")))
                .serverSideApply();
        String[] last = {"no attempt"};
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> {
                    try {
                        Pod probe = client.pods()
                                .inNamespace(NS)
                                .resource(pod("probe", null))
                                .dryRun()
                                .create();
                        boolean mutated = probe.getSpec().getSecurityContext() != null
                                && Long.valueOf(10000L)
                                        .equals(probe.getSpec()
                                                .getSecurityContext()
                                                .getRunAsUser());
                        last[0] = mutated ? "mutated, but a root pod was admitted" : "not mutated yet";
                        if (mutated) {
                            Pod root = pod("root", null);
                            root.getSpec()
                                    .getContainers()
                                    .get(0)
                                    .setSecurityContext(new SecurityContextBuilder()
                                            .withRunAsUser(0L)
                                            .build());
                            client.pods()
                                    .inNamespace(NS)
                                    .resource(root)
                                    .dryRun()
                                    .create();
                        }
                    } catch (KubernetesClientException e) {
                        last[0] = e.getMessage();
                    }
                    assertTrue(
                            last[0].contains("rootguard denied"),
                            () -> "webhooks not in effect within 60 s; last: " + last[0]);
                });
    }

    private static Pod pod(String name, String supplementalGroupsPolicy) {
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(NS)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage("registry.example/app:1")
                .endContainer()
                .endSpec()
                .build();
        if (supplementalGroupsPolicy != null) {
            pod.getSpec()
                    .setSecurityContext(new PodSecurityContextBuilder()
                            .withSupplementalGroupsPolicy(supplementalGroupsPolicy)
                            .build());
        }
        return pod;
    }

    /** kubectl prints admission warnings on stderr, as users see them. */
    private static Tools.Result kubectlCreate(ControlPlane.Handle apiserver, Pod pod) {
        return Tools.run(
                List.of(
                        Tools.kubectl().toString(),
                        "--kubeconfig",
                        apiserver.kubeconfigFile().toString(),
                        "-n",
                        NS,
                        "create",
                        "-f",
                        "-"),
                Serialization.asYaml(pod));
    }
}
